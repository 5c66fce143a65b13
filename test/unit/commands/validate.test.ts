import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatValidateReport, validate } from '../../../src/commands/validate.js';
import { serve } from '../../../src/commands/serve.js';
import type { Graph } from '../../../src/core/graph/ir.js';
import { writeOnnxModel } from '../../../src/core/graph/onnx-writer.js';
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
      'store/good/labels.txt': 'red\ngreen\n',
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

  it('refuses an ONNX graph whose declared output no node produces, as serve does (also with --quick)', async () => {
    const cwd = await repoDir({ 'store/m/config.pbtxt': identityConfig, 'store/m/1/model.onnx': identityOnnx({ output: 'ghost' }) });
    for (const deep of [true, false]) {
      const r = await validate({ cwd, modelStore: 'store', deep });
      expect(r.ok).toBe(false);
      expect(r.models[0].problems).toContainEqual(
        expect.objectContaining({ severity: 'error', file: 'm/1/model.onnx', message: "m/1/model.onnx declares output 'ghost', but no node of the graph produces it" }),
      );
    }
    await expect(serve({ cwd, modelStore: 'store', quiet: true, installSignalHandlers: false })).rejects.toMatchObject({ code: 'OFS_MODEL_LOAD_FAILED' });
  });

  it('builds each model in onnxruntime, which catches what only the runtime checks; --quick skips that', async () => {
    // A node reads a tensor nothing produces: the IR reads it, onnxruntime refuses the graph.
    const cwd = await repoDir({ 'store/m/config.pbtxt': identityConfig, 'store/m/1/model.onnx': identityOnnx({ nodeInput: 'nowhere' }) });
    const deep = await validate({ cwd, modelStore: 'store' });
    expect(deep.ok).toBe(false);
    expect(deep.models[0].problems).toEqual([
      expect.objectContaining({ severity: 'error', file: 'm/1/model.onnx', message: expect.stringMatching(/cannot load model 'm' version 1: .*nowhere/) }),
    ]);
    const quick = await validate({ cwd, modelStore: 'store', deep: false });
    expect(quick.ok).toBe(true);
    await expect(serve({ cwd, modelStore: 'store', quiet: true, installSignalHandlers: false })).rejects.toMatchObject({ code: 'OFS_MODEL_LOAD_FAILED' });
  });
});

const identityConfig = 'name: "m"\nbackend: "onnxruntime"\nmax_batch_size: 0\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 5 ] } ]\noutput [ { name: "y" data_type: TYPE_FP32 dims: [ 5 ] } ]\n';

/** x → Identity → y, optionally with one more graph output nothing produces, or a node input nothing produces. */
function identityOnnx(broken: { output?: string; nodeInput?: string }): Uint8Array {
  const g: Graph = {
    name: 'identity',
    inputs: [{ name: 'x', dtype: 'FP32', shape: [5] }],
    outputs: [{ name: 'y', dtype: 'FP32', shape: [5] }, ...(broken.output ? [{ name: broken.output, dtype: 'FP32' as const, shape: [5] }] : [])],
    nodes: [{ op: broken.nodeInput ? 'Add' : 'Identity', name: 'id', inputs: broken.nodeInput ? ['x', broken.nodeInput] : ['x'], outputs: ['y'], attrs: {} }],
    initializers: [],
    opset: 17,
  };
  return writeOnnxModel(g);
}
