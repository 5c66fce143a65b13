import { cp, mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOfsError } from '../../../../../src/errors.js';
import type { Graph } from '../../../../../src/core/graph/ir.js';
import {
  detectOneflowFolder,
  inspectOneflowModel,
  loadOneflowModel,
  readOneflowGraphIO,
} from '../../../../../src/core/graph/oneflow/folder.js';
import { evaluate } from '../../../../fixtures/reference-eval.js';
import { makeTemp, oneflowFixture, removeTemp, writeOneflowFolder } from '../../../../fixtures/oneflow.js';

let tmp: string;
beforeAll(async () => {
  tmp = await makeTemp();
});
afterAll(async () => {
  await removeTemp(tmp);
});

let n = 0;
/** A private copy of a fixture folder, to break. */
async function copyOf(name: Parameters<typeof oneflowFixture>[0]): Promise<string> {
  const dir = join(tmp, `${name}-${n++}`, 'model');
  await cp(oneflowFixture(name), dir, { recursive: true });
  return dir;
}

async function loadError(dir: string): Promise<{ code: string; message: string }> {
  try {
    await loadOneflowModel(dir);
  } catch (e) {
    if (isOfsError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('loaded without error');
}

function runAffine(graph: Graph, inputs: { shape: number[]; values: number[] }[]): number[] {
  const feeds = Object.fromEntries(inputs.map((x, i) => [`INPUT_${i}`, { shape: x.shape, data: Float32Array.from(x.values) }]));
  return [...(evaluate(graph, feeds).OUTPUT_0?.data ?? [])];
}

describe('loadOneflowModel: the fixtures OneFlow wrote', () => {
  it('affine_with_parameter: x·a + b with a, b all ones gives sum(x) + 1 in every column', async () => {
    const { graph, warnings } = await loadOneflowModel(oneflowFixture('affine_with_parameter'));
    expect(warnings).toEqual([]);
    expect(graph.name).toBe('MyGraph_0');
    expect(graph.inputs).toEqual([{ name: 'INPUT_0', dtype: 'FP32', shape: [-1, 3] }]);
    expect(graph.outputs).toEqual([{ name: 'OUTPUT_0', dtype: 'FP32', shape: [-1, 4] }]);
    expect(graph.initializers.map((i) => [i.name, i.shape])).toEqual([['model.a', [3, 4]], ['model.b', [4]]]);
    expect(runAffine(graph, [{ shape: [1, 3], values: [1, 2, 3] }])).toEqual([7, 7, 7, 7]);
    // The batch is dynamic: two rows at once.
    expect(runAffine(graph, [{ shape: [2, 3], values: [1, 2, 3, 0, 0, 0.5] }])).toEqual([7, 7, 7, 7, 1.5, 1.5, 1.5, 1.5]);
  });

  it('affine_with_parameter_2021 (nd_sbp printing) imports to the same graph as the newer printing', async () => {
    const a = await loadOneflowModel(oneflowFixture('affine_with_parameter'));
    const b = await loadOneflowModel(oneflowFixture('affine_with_parameter_2021'));
    expect(b.graph).toEqual(a.graph);
  });

  it('affine_no_parameter: three inputs, no weights', async () => {
    const { graph } = await loadOneflowModel(oneflowFixture('affine_no_parameter'));
    expect(graph.initializers).toEqual([]);
    expect(graph.inputs.map((i) => i.name)).toEqual(['INPUT_0', 'INPUT_1', 'INPUT_2']);
    // [1, 2, 3] · [[1, 2], [1, 2], [1, 2]] + [0.5, -1] = [6.5, 11].
    const out = runAffine(graph, [
      { shape: [1, 3], values: [1, 2, 3] },
      { shape: [3, 2], values: [1, 2, 1, 2, 1, 2] },
      { shape: [2], values: [0.5, -1] },
    ]);
    expect(out).toEqual([6.5, 11]);
  });

  it('readOneflowGraphIO reads IO without weights, even for the weightless ResNet-50 graph', async () => {
    const io = await readOneflowGraphIO(oneflowFixture('resnet50_graph_2022'));
    expect(io).toEqual({
      inputs: [{ name: 'INPUT_0', dtype: 'FP32', shape: [-1, 3, 224, 224] }],
      outputs: [{ name: 'OUTPUT_0', dtype: 'FP32', shape: [-1, 1000] }],
    });
  });
});

describe('inspectOneflowModel: every problem at once', () => {
  it('reports nothing for a good folder and returns its graph', async () => {
    const r = await inspectOneflowModel(oneflowFixture('affine_with_parameter'));
    expect(r.problems).toEqual([]);
    expect(r.graph?.nodes.map((x) => x.op)).toEqual(['Gemm']);
  });

  it('a missing model folder: says the server cannot find it and how to save one', async () => {
    const dir = join(tmp, 'nothing', 'model');
    const r = await inspectOneflowModel(dir);
    expect(r.graph).toBeUndefined();
    expect(r.problems).toEqual([
      expect.objectContaining({ severity: 'error', file: dir, message: `cannot find the model folder ${dir}`, fix: expect.stringContaining('flow.save(graph') }),
    ]);
    expect((await loadError(dir)).code).toBe('OFS_ONEFLOW_MODEL_MISSING');
  });

  it('a folder without model.mlir', async () => {
    const dir = join(tmp, 'empty', 'model');
    await mkdir(dir, { recursive: true });
    const r = await inspectOneflowModel(dir);
    expect(r.problems).toEqual([expect.objectContaining({ severity: 'error', message: `${dir} has no model.mlir, so it holds no graph to run` })]);
  });

  it('a syntax error, with line and column', async () => {
    const dir = await copyOf('affine_no_parameter');
    await writeFile(join(dir, 'model.mlir'), 'module {\n  oneflow.job @G() -> () {\n    oneflow.return %\n  }\n}\n');
    const r = await inspectOneflowModel(dir);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]?.message).toBe(`${join(dir, 'model.mlir')}:3:20: expected a name after '%'`);
    expect((await loadError(dir)).code).toBe('OFS_MLIR_SYNTAX');
  });

  it('a missing variable folder, an out of the wrong size and a meta that disagrees, all together', async () => {
    const dir = await copyOf('affine_with_parameter');
    await rm(join(dir, 'model.b'), { recursive: true });
    await truncate(join(dir, 'model.a', 'out'), 40);
    await writeFile(join(dir, 'model.a', 'meta'), 'shape {\n  dim: 4\n  dim: 3\n}\ndata_type: kDouble\n');
    const r = await inspectOneflowModel(dir);
    expect(r.graph).toBeUndefined();
    const messages = r.problems.map((p) => `${p.severity}: ${p.message}`);
    expect(messages).toEqual([
      `error: variable ${join(dir, 'model.a', 'out')}: holds 40 bytes, expected 48 (shape [3, 4] of FP32, 4 bytes each)`,
      `error: variable ${join(dir, 'model.a', 'meta')}: shape [4, 3] disagrees with model.mlir [3, 4]`,
      `error: variable ${join(dir, 'model.a', 'meta')}: type FP64 disagrees with model.mlir (FP32)`,
      `error: variable ${join(dir, 'model.b')}: folder is missing (model.mlir declares variable 'model.b' at line 5)`,
    ]);
    expect((await loadError(dir)).code).toBe('OFS_VARIABLE_INVALID');
  });

  it('a folder that no variable names is a warning, not an error', async () => {
    const dir = await copyOf('affine_with_parameter');
    await mkdir(join(dir, 'model.c'));
    const r = await inspectOneflowModel(dir);
    expect(r.graph).toBeDefined();
    expect(r.problems).toEqual([
      expect.objectContaining({ severity: 'warning', file: join(dir, 'model.c'), message: expect.stringContaining("folder 'model.c' is not a variable") }),
    ]);
  });

  it('lists every unsupported op, with op_name and line', async () => {
    const dir = join(tmp, 'unsupported', 'model');
    const t = 'tensor<1x2xf32>';
    await writeOneflowFolder(
      dir,
      [
        'module {',
        `  oneflow.job @G(%arg0: ${t}) -> ${t} {`,
        `    %a = "oneflow.input"(%arg0) {op_name = "in"} : (${t}) -> ${t}`,
        `    %0 = "oneflow.gelu"(%a) {op_name = "act1"} : (${t}) -> ${t}`,
        `    %1 = "oneflow.silu"(%0) {op_name = "act2"} : (${t}) -> ${t}`,
        `    %o = "oneflow.output"(%1) {op_name = "out"} : (${t}) -> ${t}`,
        `    oneflow.return %o : ${t}`,
        '  }',
        '}',
      ].join('\n'),
    );
    const r = await inspectOneflowModel(dir);
    const mlir = join(dir, 'model.mlir');
    expect(r.problems.map((p) => p.message)).toEqual([
      `unsupported operator 'oneflow.gelu' (op_name 'act1') at ${mlir}:4:10`,
      `unsupported operator 'oneflow.silu' (op_name 'act2') at ${mlir}:5:10`,
    ]);
  });

  it('a variable nothing reads (num_batches_tracked) may be missing: warning only, and the graph loads', async () => {
    const dir = join(tmp, 'unused-var', 'model');
    const t = 'tensor<1x2xf32>';
    await writeOneflowFolder(
      dir,
      [
        'module {',
        `  oneflow.job @G(%arg0: ${t}) -> ${t} {`,
        `    %a = "oneflow.input"(%arg0) {op_name = "in"} : (${t}) -> ${t}`,
        '    %n = "oneflow.variable"() {data_type = 6 : i32, op_name = "bn.num_batches_tracked", shape = [], trainable = false} : () -> tensor<i64>',
        `    %0 = "oneflow.relu"(%a) {op_name = "r"} : (${t}) -> ${t}`,
        `    %o = "oneflow.output"(%0) {op_name = "out"} : (${t}) -> ${t}`,
        `    oneflow.return %o : ${t}`,
        '  }',
        '}',
      ].join('\n'),
    );
    const r = await inspectOneflowModel(dir);
    expect(r.graph?.initializers).toEqual([]);
    expect(r.problems).toEqual([expect.objectContaining({ severity: 'warning', message: expect.stringMatching(/bn\.num_batches_tracked: folder is missing.*ignored/) })]);
    // Present, 0-d with a meta that has no shape: fine.
    await mkdir(join(dir, 'bn.num_batches_tracked'));
    await writeFile(join(dir, 'bn.num_batches_tracked', 'meta'), 'data_type: kInt64\n');
    await writeFile(join(dir, 'bn.num_batches_tracked', 'out'), new Uint8Array(8));
    expect((await inspectOneflowModel(dir)).problems).toEqual([]);
    expect((await loadOneflowModel(dir)).graph.nodes.map((x) => x.op)).toEqual(['Relu']);
  });
});

describe('folders saved the other way', () => {
  // Pickle protocol 4 opens with PROTO 4 (0x80 0x04) then FRAME (0x95); dict keys follow as text.
  const pickle = (...keys: string[]): Buffer => Buffer.concat([Buffer.from([0x80, 0x04, 0x95, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x7d, 0x94]), ...keys.map((k) => Buffer.from(k))]);

  it('a pickled runtime_state_dict file: says what it is and how to re-save', async () => {
    const path = join(tmp, 'rsd-file', 'model');
    await mkdir(join(tmp, 'rsd-file'));
    await writeFile(path, pickle('protocol_version', 'oneflow', 'data', 'oneflow_version', 'graph_name', 'job_id', 'states', 'exe_plan'));
    expect(await detectOneflowFolder(path)).toBe('runtime-state-dict');
    const r = await inspectOneflowModel(path);
    expect(r.problems).toEqual([
      expect.objectContaining({
        severity: 'error',
        message: `${path} is a pickled runtime_state_dict (OneFlow-Serving's Python backend format), not a graph saved with flow.save(graph, dir)`,
        fix: expect.stringContaining('flow.save(graph, "1/model")'),
      }),
    ]);
    expect((await loadError(path)).code).toBe('OFS_RUNTIME_STATE_DICT');
  });

  it('a runtime_state_dict saved as a folder with pickled_data', async () => {
    const dir = join(tmp, 'rsd-dir', 'model');
    await mkdir(join(dir, 'global_tensor_1'), { recursive: true });
    await writeFile(join(dir, 'pickled_data'), pickle('graph_name', 'exe_plan'));
    expect(await detectOneflowFolder(dir)).toBe('runtime-state-dict');
    expect((await loadError(dir)).code).toBe('OFS_RUNTIME_STATE_DICT');
  });

  it('a plain state_dict (pickle, pickled_data folder or legacy snapshot): weights without a graph', async () => {
    const file = join(tmp, 'sd-file');
    await writeFile(file, pickle('protocol_version', 'oneflow', 'data', 'conv1.weight'));
    const pickledDir = join(tmp, 'sd-dir');
    await mkdir(join(pickledDir, 'tensor_1'), { recursive: true });
    await writeFile(join(pickledDir, 'pickled_data'), pickle('conv1.weight'));
    const legacy = join(tmp, 'sd-legacy');
    await writeOneflowFolder(legacy, '', { 'conv1.weight': { shape: [1], values: [1] } });
    await rm(join(legacy, 'model.mlir'));
    await writeFile(join(legacy, 'snapshot_done'), '');
    for (const path of [file, pickledDir, legacy]) {
      expect(await detectOneflowFolder(path)).toBe('state-dict');
      const r = await inspectOneflowModel(path);
      expect(r.problems).toEqual([
        expect.objectContaining({ message: `${path} holds tensors saved with flow.save(state_dict): weights without a graph` }),
      ]);
      expect((await loadError(path)).code).toBe('OFS_ONEFLOW_STATE_DICT');
    }
  });
});
