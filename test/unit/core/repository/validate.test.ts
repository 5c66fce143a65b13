import { cp, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../../../src/core/graph/ir.js';
import { writeOnnxModel } from '../../../../src/core/graph/onnx-writer.js';
import type { Problem } from '../../../../src/core/problem.js';
import { validateRepository } from '../../../../src/core/repository/validate.js';
import { colourClassifierOnnx } from '../../../fixtures/models.js';
import { oneflowFixture } from '../../../fixtures/oneflow.js';
import { removeRepoDirs, repoDir } from '../../../fixtures/repo.js';

afterAll(removeRepoDirs);

const colour = colourClassifierOnnx();
const AFFINE = oneflowFixture('affine_with_parameter');

/** The colour classifier (x [-1,3,224,224] → y [-1,11]) served by onnxruntime: a clean model. */
const colourConfig = (over: { name?: string; mbs?: number; input?: string; output?: string; extra?: string } = {}): string =>
  [
    `name: "${over.name ?? 'colour'}"`,
    'backend: "onnxruntime"',
    `max_batch_size: ${over.mbs ?? 8}`,
    `input [ { ${over.input ?? 'name: "INPUT_0" data_type: TYPE_FP32 dims: [ 3, 224, 224 ]'} } ]`,
    `output [ { ${over.output ?? 'name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 11 ] label_filename: "labels.txt"'} } ]`,
    over.extra ?? '',
  ].join('\n');

const colourFiles = (config: string = colourConfig()): Record<string, string | Uint8Array> => ({
  'colour/config.pbtxt': config,
  'colour/labels.txt': `${colour.labels.join('\n')}\n`,
  'colour/1/model.onnx': colour.onnx,
});

/** An ONNX model that passes x to y unchanged, with the given shape. */
const identityOnnx = (shape: number[]): Uint8Array => {
  const g: Graph = {
    name: 'identity',
    inputs: [{ name: 'x', dtype: 'FP32', shape }],
    outputs: [{ name: 'y', dtype: 'FP32', shape }],
    nodes: [{ op: 'Identity', name: 'id', inputs: ['x'], outputs: ['y'], attrs: {} }],
    initializers: [],
    opset: 17,
  };
  return writeOnnxModel(g);
};

async function problemsOf(tree: Record<string, string | Uint8Array>, model = 'colour'): Promise<Problem[]> {
  const report = await validateRepository(await repoDir(tree));
  const m = report.models.find((x) => x.name === model);
  if (!m) throw new Error(`no model ${model} in ${JSON.stringify(report)}`);
  return m.problems;
}

const errors = (ps: Problem[]) => ps.filter((p) => p.severity === 'error');

describe('validateRepository', () => {
  it('finds nothing wrong with a clean repository', async () => {
    const report = await validateRepository(await repoDir(colourFiles()));
    expect(report).toEqual({ models: [{ name: 'colour', problems: [] }], problems: [] });
  });

  it('reports a missing repository folder', async () => {
    const report = await validateRepository('/nonexistent/ofserve-store');
    expect(report.models).toEqual([]);
    expect(report.problems).toEqual([
      expect.objectContaining({ severity: 'error', file: '/nonexistent/ofserve-store', message: 'model repository not found: /nonexistent/ofserve-store', fix: expect.any(String) }),
    ]);
  });

  it('reports a missing config.pbtxt', async () => {
    const { 'colour/config.pbtxt': _, ...tree } = colourFiles();
    expect(await problemsOf(tree)).toEqual([
      expect.objectContaining({ severity: 'error', file: 'colour/config.pbtxt', message: "model configuration is not provided for model 'colour'", fix: expect.any(String) }),
    ]);
  });

  it('reports an unparseable config.pbtxt with line and column', async () => {
    const [p, ...rest] = await problemsOf(colourFiles('name: "colour"\nmax_batch_size: [\n'));
    expect(rest).toEqual([]);
    expect(p).toMatchObject({ severity: 'error', file: 'colour/config.pbtxt' });
    expect(p.message).toMatch(/^colour\/config\.pbtxt:2:\d+: /);
    expect(p.fix).toBeTruthy();
  });

  it("reports a name that differs from the folder in Triton's words", async () => {
    expect(await problemsOf(colourFiles(colourConfig({ name: 'color' })))).toEqual([
      expect.objectContaining({
        file: 'colour/config.pbtxt',
        field: 'name',
        message: "unexpected directory name 'colour' for model 'color', directory name must equal model name",
      }),
    ]);
  });

  it('reports a model without a numeric version folder', async () => {
    const { 'colour/1/model.onnx': onnx, ...tree } = colourFiles();
    const problems = await problemsOf({ ...tree, 'colour/v1/model.onnx': onnx });
    expect(errors(problems)).toEqual([
      expect.objectContaining({ file: 'colour', message: expect.stringContaining("model 'colour' has no version folder"), fix: expect.any(String) }),
    ]);
    expect(problems).toContainEqual(expect.objectContaining({ severity: 'warning', file: 'colour/v1' }));
  });

  it("reports a missing oneflow model folder as OneFlow-Serving's 'cannot find the model folder'", async () => {
    const problems = await problemsOf(
      {
        'm/config.pbtxt':
          'name: "m"\nbackend: "oneflow"\ninput [ { name: "INPUT_0" data_type: TYPE_FP32 dims: [ 3 ] } ]\noutput [ { name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 4 ] } ]\n',
        'm/1/model.pt': 'x',
      },
      'm',
    );
    expect(problems).toEqual([expect.objectContaining({ severity: 'error', file: 'm/1', message: 'cannot find the model folder m/1/model', fix: expect.stringContaining('flow.save') })]);
  });

  it('reports an unknown backend', async () => {
    const problems = await problemsOf(colourFiles(colourConfig().replace('"onnxruntime"', '"pytorch"')));
    expect(problems).toEqual([expect.objectContaining({ severity: 'error', file: 'colour/config.pbtxt', field: 'backend', message: "unknown backend 'pytorch'" })]);
  });

  it("reports IO names against the oneflow backend's INPUT_<i> rule", async () => {
    const tree = { ...colourFiles(), 'colour/config.pbtxt': colourConfig({ input: 'name: "image" data_type: TYPE_FP32 dims: [ 3, 224, 224 ]' }).replace('onnxruntime', 'oneflow') };
    const problems = await problemsOf(tree);
    expect(problems).toContainEqual(
      expect.objectContaining({ severity: 'error', file: 'colour/config.pbtxt', field: 'input[0].name', message: expect.stringContaining("input name 'image' does not follow the oneflow backend's rule") }),
    );
  });

  it("reports dims that disagree with the model's input", async () => {
    const problems = await problemsOf(colourFiles(colourConfig({ input: 'name: "INPUT_0" data_type: TYPE_FP32 dims: [ 224, 224, 3 ]' })));
    expect(problems).toEqual([
      expect.objectContaining({
        file: 'colour/config.pbtxt',
        field: 'input[0].dims',
        message: expect.stringContaining("input 'INPUT_0' has dims [224, 224, 3], but 'INPUT_0' in colour/1/model.onnx has shape [-1, 3, 224, 224]"),
        fix: 'set dims: [3, 224, 224]',
      }),
    ]);
  });

  it("reports a data_type that disagrees with the model's output", async () => {
    const problems = await problemsOf(colourFiles(colourConfig({ output: 'name: "OUTPUT_0" data_type: TYPE_FP16 dims: [ 11 ] label_filename: "labels.txt"' })));
    expect(problems).toEqual([
      expect.objectContaining({ file: 'colour/config.pbtxt', field: 'output[0].data_type', message: expect.stringContaining('TYPE_FP16'), fix: 'set data_type: TYPE_FP32' }),
    ]);
  });

  it('reports a missing label file', async () => {
    const { 'colour/labels.txt': _, ...tree } = colourFiles();
    expect(await problemsOf(tree)).toEqual([
      expect.objectContaining({
        severity: 'error',
        file: 'colour/config.pbtxt',
        field: 'output[0].label_filename',
        message: "label file colour/labels.txt of output 'OUTPUT_0' not found",
      }),
    ]);
  });

  it('warns about a label count that differs from the class dim; --strict makes it an error', async () => {
    const tree = { ...colourFiles(), 'colour/labels.txt': 'red\ngreen\n' };
    const problem = { file: 'colour/labels.txt', field: 'output[0].label_filename', message: expect.stringContaining('has 2 labels, but output') };
    expect(await problemsOf(tree)).toEqual([expect.objectContaining({ severity: 'warning', ...problem })]);
    const strict = await validateRepository(await repoDir(tree), { strict: true });
    expect(strict.models[0].problems).toEqual([expect.objectContaining({ severity: 'error', ...problem })]);
  });

  it('takes a label file with Windows line endings and trailing blank lines as it is', async () => {
    const tree = { ...colourFiles(), 'colour/labels.txt': `${colour.labels.join('\r\n')}\r\n\r\n\r\n` };
    expect(await problemsOf(tree)).toEqual([]);
  });

  it('refuses TYPE_STRING inputs and outputs, which no backend can answer', async () => {
    const config = colourConfig({ output: 'name: "OUTPUT_0" data_type: TYPE_STRING dims: [ 11 ]' });
    expect(errors(await problemsOf(colourFiles(config)))).toContainEqual(
      expect.objectContaining({ file: 'colour/config.pbtxt', field: 'output[0].data_type', message: expect.stringContaining("output 'OUTPUT_0' is TYPE_STRING") }),
    );
  });

  it('reports max_batch_size > 1 for a model whose batch dim is fixed at 1', async () => {
    const config = 'name: "id"\nbackend: "onnxruntime"\nmax_batch_size: 4\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 5 ] } ]\noutput [ { name: "y" data_type: TYPE_FP32 dims: [ 5 ] } ]\n';
    const problems = await problemsOf({ 'id/config.pbtxt': config, 'id/1/model.onnx': identityOnnx([1, 5]) }, 'id');
    expect(problems).toEqual([
      expect.objectContaining({ severity: 'error', file: 'id/config.pbtxt', field: 'max_batch_size', message: "max_batch_size is 4, but the batch dimension of 'x' in id/1/model.onnx is fixed at 1 (shape [1, 5])" }),
    ]);
  });

  it('reports max_batch_size > 0 for a model without a batch dim', async () => {
    const config = 'name: "id"\nbackend: "onnxruntime"\nmax_batch_size: 4\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 5 ] } ]\noutput [ { name: "y" data_type: TYPE_FP32 dims: [ 5 ] } ]\n';
    const problems = await problemsOf({ 'id/config.pbtxt': config, 'id/1/model.onnx': identityOnnx([5]) }, 'id');
    expect(problems).toEqual([
      expect.objectContaining({ severity: 'error', file: 'id/config.pbtxt', field: 'max_batch_size', message: expect.stringContaining('the model has no batch dimension') }),
    ]);
  });

  it('reports version policy problems', async () => {
    const problems = await problemsOf(colourFiles(colourConfig({ extra: 'version_policy { specific { versions: [ 2 ] } }' })));
    expect(problems).toEqual([
      expect.objectContaining({ severity: 'warning', field: 'version_policy.specific.versions', message: "version 2 is specified for model 'colour', but the version directory is not present" }),
      expect.objectContaining({ severity: 'error', field: 'version_policy', message: "at least one version must be available under the version policy of model 'colour'" }),
    ]);
  });

  it('reports what the OneFlow inspector finds, with files relative to the store', async () => {
    const store = await repoDir({
      'affine/config.pbtxt':
        'name: "affine"\nbackend: "oneflow"\ninput [ { name: "INPUT_0" data_type: TYPE_FP32 dims: [ 1, 3 ] } ]\noutput [ { name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 1, 4 ] } ]\n',
    });
    await cp(AFFINE, path.join(store, 'affine', '1', 'model'), { recursive: true });
    const clean = await validateRepository(store);
    expect(clean.models[0].problems).toEqual([]);

    await rm(path.join(store, 'affine', '1', 'model', 'model.b', 'out'));
    const [p, ...rest] = errors((await validateRepository(store)).models[0].problems);
    expect(rest).toEqual([]);
    expect(p.file.startsWith('affine/1/model/model.b')).toBe(true);
    expect(p.message).toBeTruthy();
  });

  it('reports every problem of every model at once', async () => {
    const { 'colour/labels.txt': _, ...tree } = colourFiles(colourConfig({ name: 'color', input: 'name: "INPUT_0" data_type: TYPE_FP32 dims: [ 1 ]' }));
    const report = await validateRepository(await repoDir({ ...tree, 'other/1/': '' }));
    expect(report.models.map((m) => [m.name, m.problems.map((p) => p.field ?? p.file)])).toEqual([
      ['colour', ['output[0].label_filename', 'name', 'input[0].dims']],
      ['other', ['other/config.pbtxt', 'other/1']],
    ]);
  });

  it('a model file that cannot be read (a link loop) is a problem on that file, not a crash', async () => {
    const { 'colour/1/model.onnx': _, ...tree } = colourFiles();
    const store = await repoDir({ ...tree, 'colour/1/': '' });
    await symlink('model.onnx', path.join(store, 'colour', '1', 'model.onnx'));
    const report = await validateRepository(store);
    expect(report.models[0].problems).toEqual([
      expect.objectContaining({ severity: 'error', file: 'colour/1/model.onnx', message: expect.stringContaining('cannot read the model file colour/1/model.onnx') }),
    ]);
  });
});
