import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanModel } from '../../../../src/core/repository/scan.js';
import { validateRepository } from '../../../../src/core/repository/validate.js';
import { colourClassifierOnnx } from '../../../fixtures/models.js';
import { removeRepoDirs, repoDir } from '../../../fixtures/repo.js';

/** Links out of the model store are refused (by validate and by the load) unless explicitly allowed. */

afterAll(removeRepoDirs);

const colour = colourClassifierOnnx();
const config = `name: "m"
backend: "onnxruntime"
max_batch_size: 8
input [ { name: "INPUT_0" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ]
output [ { name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 11 ] label_filename: "labels.txt" } ]
`;
const labels = `${colour.labels.join('\n')}\n`;

async function storeAndOutside() {
  const store = await repoDir({ 'm/config.pbtxt': config, 'm/labels.txt': labels, 'm/1/model.onnx': colour.onnx });
  const outside = await repoDir({ 'secret.txt': 'root:x:0:0\n', 'v/model.onnx': colour.onnx, 'model.onnx': colour.onnx });
  return { store, outside };
}

const linkProblems = async (store: string, allow = false) => {
  const report = await validateRepository(store, { allowLinksOutsideStore: allow });
  return report.models.flatMap((m) => m.problems).filter((p) => /outside the model store/.test(p.message));
};

describe('links out of the model store', () => {
  it('refuses a labels.txt that links outside, without reading it', async () => {
    const { store, outside } = await storeAndOutside();
    await rm(path.join(store, 'm/labels.txt'));
    await symlink(path.join(outside, 'secret.txt'), path.join(store, 'm/labels.txt'));
    const scanned = await scanModel(store, 'm');
    expect(scanned.labels[0].labels).toBeUndefined();
    expect(JSON.stringify(scanned)).not.toContain('root:x');
    expect(scanned.problems).toEqual([
      expect.objectContaining({ severity: 'error', file: 'm/config.pbtxt', field: 'output[0].label_filename', message: expect.stringMatching(/m\/labels\.txt is a link to .*secret\.txt, which is outside the model store/) }),
    ]);
    expect(scanned.problems[0].fix).toContain('--allow-symlinks-outside-store');
    const allowed = await scanModel(store, 'm', { allowLinksOutsideStore: true });
    expect(allowed.labels[0].labels).toEqual(['root:x:0:0']);
  });

  it('refuses a version folder and a model file that link outside', async () => {
    const { store, outside } = await storeAndOutside();
    await symlink(path.join(outside, 'v'), path.join(store, 'm/2'));
    await mkdir(path.join(store, 'm/3'));
    await symlink(path.join(outside, 'model.onnx'), path.join(store, 'm/3/model.onnx'));
    // serve every version so each link is looked at
    await writeFile(path.join(store, 'm/config.pbtxt'), `${config}version_policy: { all { } }\n`);
    expect((await linkProblems(store)).map((p) => p.file).sort()).toEqual(['m/2', 'm/3/model.onnx']);
    expect(await linkProblems(store, true)).toEqual([]);
  });

  it('refuses a model folder that links outside, and accepts links that stay inside', async () => {
    const { store, outside } = await storeAndOutside();
    await mkdir(path.join(outside, 'x/1'), { recursive: true });
    await writeFile(path.join(outside, 'x/config.pbtxt'), config.replace('"m"', '"x"'));
    await symlink(path.join(outside, 'x'), path.join(store, 'x'));
    await symlink(path.join(store, 'm/1'), path.join(store, 'm/4'));
    const report = await validateRepository(store);
    const x = report.models.find((m) => m.name === 'x');
    expect(x?.problems).toEqual([expect.objectContaining({ severity: 'error', file: 'x', message: expect.stringContaining('outside the model store') })]);
    expect(report.models.find((m) => m.name === 'm')?.problems).toEqual([]);
  });
});
