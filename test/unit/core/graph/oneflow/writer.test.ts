import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOfsError } from '../../../../../src/errors.js';
import { attr, type Graph, type Node } from '../../../../../src/core/graph/ir.js';
import { GraphBuilder } from '../../../../../src/core/graph/builders/graph-builder.js';
import { buildResNet50 } from '../../../../../src/core/graph/builders/resnet50.js';
import { seededUniform } from '../../../../../src/core/graph/builders/seeded.js';
import { loadOneflowModel } from '../../../../../src/core/graph/oneflow/folder.js';
import { parseMlir } from '../../../../../src/core/graph/oneflow/mlir-parser.js';
import { formatOneflowMlir, writeOneflowModel } from '../../../../../src/core/graph/oneflow/writer.js';
import { evaluate } from '../../../../fixtures/reference-eval.js';
import { makeTemp, removeTemp } from '../../../../fixtures/oneflow.js';

let tmp: string;
beforeAll(async () => {
  tmp = await makeTemp();
});
afterAll(async () => {
  await removeTemp(tmp);
});

/** A small CNN using every op the writer lowers (except MatMul/Reshape/Identity, in the next graph). */
function smallCnn(): Graph {
  const g = new GraphBuilder();
  const p = (name: string, shape: number[], lo = -0.5, hi = 0.5): string =>
    g.float32(name, shape, seededUniform(3, name, shape.reduce((a, b) => a * b, 1), lo, hi));
  let x = g.node('Conv', 'conv', ['x', p('conv.weight', [4, 2, 3, 3]), p('conv.bias', [4])], {
    kernel_shape: attr.ints([3, 3]), strides: attr.ints([1, 1]), pads: attr.ints([1, 1, 1, 1]), dilations: attr.ints([1, 1]), group: attr.int(1),
  });
  x = g.node('BatchNormalization', 'bn', [x, p('bn.weight', [4], 0.5, 1), p('bn.bias', [4]), p('bn.running_mean', [4]), p('bn.running_var', [4], 0.5, 1.5)], {
    epsilon: attr.float(1e-5),
  });
  x = g.node('Relu', 'relu', [x]);
  const pooled = g.node('MaxPool', 'maxpool', [x], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]), pads: attr.ints([0, 0, 0, 0]) });
  const avg = g.node('AveragePool', 'avgpool', [x], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]), pads: attr.ints([0, 0, 0, 0]) });
  x = g.node('Add', 'add', [pooled, avg]);
  x = g.node('GlobalAveragePool', 'gap', [x]);
  x = g.node('Flatten', 'flatten', [x], { axis: attr.int(1) });
  x = g.node('Gemm', 'fc', [x, p('fc.weight', [3, 4]), p('fc.bias', [3])], { transB: attr.int(1) });
  g.node('Softmax', 'softmax', [x], { axis: attr.int(-1) }, 'y');
  return g.build('small_cnn', [{ name: 'x', dtype: 'FP32', shape: [-1, 2, 4, 4] }], [{ name: 'y', dtype: 'FP32', shape: [-1, 3] }]);
}

function matmulGraph(): Graph {
  const g = new GraphBuilder();
  const w = g.float32('w', [4, 2], Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
  const shape = g.int64('shape', [-1, 4]);
  const r = g.node('Reshape', 'reshape', ['x', shape]);
  const m = g.node('MatMul', 'mm', [r, w]);
  g.node('Identity', 'id', [m], {}, 'y');
  return g.build('mm', [{ name: 'x', dtype: 'FP32', shape: [-1, 2, 2] }], [{ name: 'y', dtype: 'FP32', shape: [-1, 2] }]);
}

/** Runs an original graph (IO named x/y) and its OneFlow round trip (INPUT_0/OUTPUT_0) on the same data. */
function both(original: Graph, loaded: Graph, shape: number[]): [Float32Array, Float32Array] {
  const data = seededUniform(9, 'input', shape.reduce((a, b) => a * b, 1), -1, 1);
  const a = evaluate(original, { x: { shape, data } }).y?.data as Float32Array;
  const b = evaluate(loaded, { INPUT_0: { shape, data } }).OUTPUT_0?.data as Float32Array;
  return [a, b];
}

describe('writeOneflowModel → loadOneflowModel', () => {
  it('round-trips a small CNN to the same ops, weights and numbers (batch 2)', async () => {
    const graph = smallCnn();
    const dir = join(tmp, 'cnn', 'model');
    await writeOneflowModel(dir, graph, { jobName: 'SmallCnn' });
    const { graph: loaded, warnings } = await loadOneflowModel(dir);
    expect(warnings).toEqual([]);
    expect(loaded.name).toBe('SmallCnn');
    expect(loaded.nodes.map((n) => n.op)).toEqual(graph.nodes.map((n) => n.op));
    expect(loaded.inputs).toEqual([{ name: 'INPUT_0', dtype: 'FP32', shape: [-1, 2, 4, 4] }]);
    expect(loaded.outputs).toEqual([{ name: 'OUTPUT_0', dtype: 'FP32', shape: [-1, 3] }]);
    const byName = new Map(loaded.initializers.map((i) => [i.name, i]));
    for (const init of graph.initializers) expect(byName.get(init.name)?.data).toEqual(init.data);
    const [a, b] = both(graph, loaded, [2, 2, 4, 4]);
    expect(b.length).toBe(6);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i] as number, 6);
  });

  it('round-trips Reshape (shape constant becomes an attribute, batch kept dynamic), MatMul and Identity', async () => {
    const graph = matmulGraph();
    const dir = join(tmp, 'mm', 'model');
    await writeOneflowModel(dir, graph);
    const { graph: loaded } = await loadOneflowModel(dir);
    expect(loaded.nodes.map((n) => n.op)).toEqual(['Reshape', 'Gemm', 'Identity']);
    // Only `w` is a variable: the shape constant is the reshape's attribute.
    expect(loaded.initializers.filter((i) => i.dtype === 'FP32').map((i) => i.name)).toEqual(['w']);
    const [a, b] = both(graph, loaded, [3, 2, 2]);
    expect([...b]).toEqual([...a]);
  });

  it('writes model.mlir in the current OneFlow printing style, and meta/out per variable', async () => {
    const dir = join(tmp, 'style', 'model');
    await writeOneflowModel(dir, smallCnn(), { jobName: 'SmallCnn' });
    const text = await readFile(join(dir, 'model.mlir'), 'utf8');
    const lines = text.split('\n');
    expect(lines[0]).toBe('module {');
    expect(lines[1]).toBe('  oneflow.job @SmallCnn(%arg0: tensor<1x2x4x4xf32>) -> tensor<1x3xf32> {');
    expect(lines[2]).toMatch(/^ {4}%output = "oneflow\.input"\(%arg0\) \{data_type = 2 : i32, .*shape = \[1 : si64, 2 : si64, 4 : si64, 4 : si64\]\} : \(tensor<1x2x4x4xf32>\) -> tensor<1x2x4x4xf32>$/);
    expect(text).toContain('"oneflow.variable"() {data_type = 2 : i32, device_name = ["@0:0"], device_tag = "cpu", hierarchy = [1], nd_sbp = ["B"], op_name = "conv.weight", output_lbns = ["conv.weight/out"]');
    expect(text).toContain('operand_segment_sizes = array<i32: 1, 1, 1, 0>');
    expect(text).toMatch(/%y, %indice = "oneflow\.max_pool_2d"\(%\d+\) \{.*\} : \(tensor<1x4x4x4xf32>\) -> \(tensor<1x4x2x2xf32>, tensor<1x4x2x2xi64>\)/);
    expect(text).toContain('"oneflow.normalization"(%0, %output_4, %output_5, %output_2, %output_3)');
    expect(lines.at(-4)).toMatch(/^ {4}oneflow\.return %output_\d+ : tensor<1x3xf32>$/);
    expect(await readFile(join(dir, 'conv.weight', 'meta'), 'utf8')).toBe('shape {\n  dim: 4\n  dim: 2\n  dim: 3\n  dim: 3\n}\ndata_type: kFloat\n');
    expect((await stat(join(dir, 'conv.weight', 'out'))).size).toBe(4 * 2 * 3 * 3 * 4);
    // Every op carries the attributes OneFlow's own importer requires.
    for (const op of parseMlir(text).jobs[0]?.ops ?? []) {
      for (const key of ['op_name', 'device_tag', 'device_name', 'scope_symbol_id', 'hierarchy', 'output_lbns']) expect(op.attrs.has(key)).toBe(true);
    }
  });

  it('round-trips the ResNet-50 builder: same op counts, IO and weights', async () => {
    const graph = buildResNet50({ seed: 7 });
    const dir = join(tmp, 'resnet', 'model');
    await writeOneflowModel(dir, graph);
    const { graph: loaded } = await loadOneflowModel(dir);
    const count = (g: Graph) => g.nodes.reduce<Record<string, number>>((c, n) => ({ ...c, [n.op]: (c[n.op] ?? 0) + 1 }), {});
    expect(count(loaded)).toEqual(count(graph));
    expect(count(loaded)).toMatchObject({ Conv: 53, BatchNormalization: 53, Relu: 49, Add: 16, MaxPool: 1, GlobalAveragePool: 1, Flatten: 1, Gemm: 1 });
    expect(loaded.inputs[0]?.shape).toEqual([-1, 3, 224, 224]);
    expect(loaded.outputs[0]?.shape).toEqual([-1, 1000]);
    const byName = new Map(loaded.initializers.map((i) => [i.name, i]));
    expect(byName.size).toBe(graph.initializers.length);
    for (const init of graph.initializers) expect(Buffer.from(byName.get(init.name)?.data ?? []).equals(Buffer.from(init.data))).toBe(true);
  });
});

describe('formatOneflowMlir: what cannot be written', () => {
  const oneNode = (node: Node, extra: Partial<Graph> = {}): Graph => ({
    name: 'g',
    inputs: [{ name: 'x', dtype: 'FP32', shape: [-1, 1, 4, 4] }],
    outputs: [{ name: 'y', dtype: 'FP32', shape: [-1, 1, 2, 2] }],
    nodes: [node],
    initializers: [],
    opset: 17,
    ...extra,
  });
  const message = (g: Graph): string => {
    try {
      formatOneflowMlir(g);
    } catch (e) {
      if (isOfsError(e)) return `${e.code}: ${e.message}`;
      throw e;
    }
    return 'no error';
  };

  it('refuses asymmetric padding, which OneFlow cannot express', () => {
    const g = oneNode({ op: 'MaxPool', name: 'mp', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]), pads: attr.ints([0, 0, 1, 1]) } });
    expect(message(g)).toMatch(/^OFS_GRAPH_INVALID: .*node 'mp' \(MaxPool\): asymmetric padding \[0, 0, 1, 1\]/);
  });

  it('refuses an op without a OneFlow lowering, naming the node', () => {
    const g = oneNode({ op: 'Sigmoid', name: 'sig', inputs: ['x'], outputs: ['y'], attrs: {} }, { outputs: [{ name: 'y', dtype: 'FP32', shape: [-1, 1, 4, 4] }] });
    expect(message(g)).toMatch(/^OFS_GRAPH_INVALID: .*node 'sig' \(Sigmoid\)/);
  });

  it("reads Softmax's default axis by opset: the last axis from 13, axis 1 (over C·H·W) before", () => {
    const softmax: Node = { op: 'Softmax', name: 'sm', inputs: ['x'], outputs: ['y'], attrs: {} };
    const io = { outputs: [{ name: 'y', dtype: 'FP32' as const, shape: [-1, 1, 4, 4] }] };
    expect(message(oneNode(softmax, io))).toBe('no error');
    expect(message(oneNode(softmax, { ...io, opset: 11 }))).toMatch(/^OFS_GRAPH_INVALID: .*node 'sm' \(Softmax\): softmax over axis 1/);
  });
});
