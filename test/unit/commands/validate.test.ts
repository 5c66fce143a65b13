import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatValidateReport, validate } from '../../../src/commands/validate.js';
import { colourClassifierOnnx } from '../../fixtures/models.js';
import { removeRepoDirs, repoDir } from '../../fixtures/repo.js';

afterAll(removeRepoDirs);

const colour = colourClassifierOnnx();
const config = (name: string) =>
  `name: "${name}"\nbackend: "onnxruntime"\nmax_batch_size: 8\ninput [ { name: "INPUT_0" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ]\noutput [ { name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 11 ] label_filename: "labels.txt" } ]\n`;

describe('validate command', () => {
  it('resolves the store against cwd and counts errors and warnings', async () => {
    const cwd = await repoDir({
      'store/good/config.pbtxt': config('good'),
      'store/good/labels.txt': `${colour.labels.join('\r\n')}\r\n`,
      'store/good/1/model.onnx': colour.onnx,
      'store/bad/config.pbtxt': config('wrong'),
      'store/bad/labels.txt': `${colour.labels.join('\n')}\n`,
      'store/bad/1/model.onnx': colour.onnx,
    });
    const r = await validate({ cwd, modelStore: 'store' });
    expect(r.modelStore).toBe(path.join(cwd, 'store'));
    expect(r.models.map((m) => m.name)).toEqual(['bad', 'good']);
    expect([r.errors, r.warnings, r.ok]).toEqual([1, 1, false]);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);

    const text = formatValidateReport(r);
    expect(text).toContain("bad: 1 error\n  error: bad/config.pbtxt: name: unexpected directory name 'bad' for model 'wrong'");
    expect(text).toContain('good: 1 warning\n  warning: good/labels.txt: output[0].label_filename:');
    expect(text.split('\n').at(-1)).toBe(`${r.modelStore}: 2 models, 1 error, 1 warning`);
  });

  it('is ok with warnings only, and reports a missing store as an error', async () => {
    const cwd = await repoDir({ 'empty/': '' });
    const empty = await validate({ cwd, modelStore: 'empty' });
    expect([empty.errors, empty.warnings, empty.ok]).toEqual([0, 1, true]);
    const missing = await validate({ cwd, modelStore: 'nope' });
    expect(missing.ok).toBe(false);
    expect(formatValidateReport(missing)).toContain(`error: ${path.join(cwd, 'nope')}: model repository not found`);
  });
});
