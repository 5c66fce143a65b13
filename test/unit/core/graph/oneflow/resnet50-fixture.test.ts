import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Graph, Node } from '../../../../../src/core/graph/ir.js';
import { buildResNet50 } from '../../../../../src/core/graph/builders/resnet50.js';
import { inspectOneflowModel, loadOneflowModel } from '../../../../../src/core/graph/oneflow/folder.js';
import { RESNET50_MLIR, makeTemp, removeTemp, writeSeededResnetWeights } from '../../../../fixtures/oneflow.js';

/** The real ResNet-50 graph OneFlow traced (flowvision names), completed with seeded weights. */
let tmp: string;
let graph: Graph;
let warnings: string[];
beforeAll(async () => {
  tmp = await makeTemp();
  const dir = join(tmp, 'model');
  await writeSeededResnetWeights(RESNET50_MLIR, dir, 7);
  ({ graph, warnings } = await loadOneflowModel(dir));
});
afterAll(async () => {
  await removeTemp(tmp);
});

const strip = (name: string): string => name.replace(/^model\./, '');

describe('resnet50_graph_2022 with seeded weights', () => {
  it('imports to the ResNet-50 op counts the README lists, with dynamic-batch IO', () => {
    const counts: Record<string, number> = {};
    for (const n of graph.nodes) counts[n.op] = (counts[n.op] ?? 0) + 1;
    // matmul + broadcast_add fold into one Gemm; the 7x7/7 avg_pool_2d stays an AveragePool.
    expect(counts).toEqual({ Conv: 53, BatchNormalization: 53, Relu: 49, Add: 16, MaxPool: 1, AveragePool: 1, Flatten: 1, Gemm: 1 });
    expect(graph.inputs).toEqual([{ name: 'INPUT_0', dtype: 'FP32', shape: [-1, 3, 224, 224] }]);
    expect(graph.outputs).toEqual([{ name: 'OUTPUT_0', dtype: 'FP32', shape: [-1, 1000] }]);
  });

  it('keeps the 267 float parameters and drops the 53 unused num_batches_tracked counters', () => {
    expect(graph.initializers).toHaveLength(267);
    expect(graph.initializers.every((i) => i.dtype === 'FP32' && i.name.startsWith('model.'))).toBe(true);
    expect(graph.initializers.some((i) => i.name.endsWith('num_batches_tracked'))).toBe(false);
  });

  it('warns once that the normalizations were traced in training mode', () => {
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^53 normalization ops were saved in training mode/);
  });

  it('matches buildResNet50 layer by layer: conv windows, BatchNorm operands in ONNX order, fc, and identical weights', () => {
    const built = buildResNet50({ seed: 7 });
    const builtInit = new Map(built.initializers.map((i) => [i.name, i]));
    for (const init of graph.initializers) {
      const twin = builtInit.get(strip(init.name));
      expect(twin, init.name).toBeDefined();
      expect(Buffer.from(init.data).equals(Buffer.from(twin?.data ?? []))).toBe(true);
    }
    const builtBy = (op: string, weight: string): Node | undefined => built.nodes.find((n) => n.op === op && n.inputs[1] === weight);
    for (const conv of graph.nodes.filter((n) => n.op === 'Conv')) {
      const twin = builtBy('Conv', strip(conv.inputs[1] as string));
      expect(conv.attrs, conv.name).toEqual(twin?.attrs);
    }
    for (const bn of graph.nodes.filter((n) => n.op === 'BatchNormalization')) {
      const twin = builtBy('BatchNormalization', strip(bn.inputs[1] as string));
      // (X, scale, B, mean, var): OneFlow's (x, moving_mean, moving_variance, gamma, beta) reordered.
      expect(bn.inputs.slice(1).map(strip), bn.name).toEqual(twin?.inputs.slice(1));
      const eps = bn.attrs.epsilon;
      expect(eps?.kind === 'float' && Math.fround(eps.value)).toBe(Math.fround(1e-5));
    }
    const fc = graph.nodes.find((n) => n.op === 'Gemm');
    expect(fc?.inputs.slice(1)).toEqual(['model.fc.weight', 'model.fc.bias']);
    expect(fc?.attrs).toEqual({ transB: { kind: 'int', value: 1 } });
    const pool = graph.nodes.find((n) => n.op === 'MaxPool');
    expect(pool?.attrs).toMatchObject({ kernel_shape: { value: [3, 3] }, strides: { value: [2, 2] }, pads: { value: [1, 1, 1, 1] } });
  });

  it('passes inspect with only the training-mode warning', async () => {
    const r = await inspectOneflowModel(join(tmp, 'model'));
    expect(r.problems.map((p) => p.severity)).toEqual(['warning']);
    expect(r.graph?.nodes).toHaveLength(graph.nodes.length);
  });
});
