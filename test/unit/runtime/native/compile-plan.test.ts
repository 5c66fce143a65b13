import { describe, expect, it } from 'vitest';
import { buildColourClassifier } from '../../../../src/core/graph/builders/colour-classifier.js';
import { GraphBuilder } from '../../../../src/core/graph/builders/graph-builder.js';
import { attr, type Attr, type Graph } from '../../../../src/core/graph/ir.js';
import { isOfsError } from '../../../../src/errors.js';
import { compilePlan } from '../../../../src/runtime/native/compile-plan.js';
import type { PlanStep } from '../../../../src/runtime/native/plan-format.js';
import { buildSmallCnn, relativeDiff } from '../../../fixtures/native-models.js';
import { randomValues } from '../../../fixtures/ort.js';
import { runPlan, validatePlan } from '../../../fixtures/plan-eval.js';
import { evaluate } from '../../../fixtures/reference-eval.js';

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function agree(graph: Graph, batch: number, seed: number): { planOut: Float32Array; refOut: Float32Array } {
  const { plan, weights, inputShape } = compilePlan(graph);
  const shape = [batch, ...inputShape];
  const data = randomValues(size(shape), seed, 0, 1);
  const refOut = evaluate(graph, { [graph.inputs[0]!.name]: { shape, data } })[graph.outputs[0]!.name]!.data;
  const planOut = runPlan(plan, weights, data, batch);
  return { planOut, refOut };
}

function unsupportedMessage(graph: Graph): string {
  try {
    compilePlan(graph);
  } catch (e) {
    if (isOfsError(e) && e.code === 'OFS_NATIVE_UNSUPPORTED') return e.message;
    throw e;
  }
  throw new Error('compilePlan accepted the graph');
}

/** INPUT_0 [-1,C,H,W] → one node `op` → OUTPUT_0, with optional extra nodes before it. */
function oneOp(op: string, attrs: Record<string, Attr>, opts: { input?: number[]; extraInputs?: (g: GraphBuilder) => string[] } = {}): Graph {
  const { input = [-1, 4, 6, 6] } = opts;
  const g = new GraphBuilder();
  g.node(op, 'the_node', ['INPUT_0', ...(opts.extraInputs?.(g) ?? [])], attrs, 'OUTPUT_0');
  return g.build('t', [{ name: 'INPUT_0', dtype: 'FP32', shape: input }], [{ name: 'OUTPUT_0', dtype: 'FP32', shape: [-1, -1, -1, -1] }]);
}

const opsOf = (steps: readonly PlanStep[]): string[] =>
  steps.map((s) => `${s.op}${'relu' in s && s.relu ? '+relu' : ''}${s.op === 'conv' && s.residual !== undefined ? '+res' : ''}`);

describe('compilePlan', () => {
  it('computes what the reference evaluator computes on a small CNN, batch 3, with logits and with softmax', () => {
    for (const softmax of [false, true]) {
      const { planOut, refOut } = agree(buildSmallCnn({ seed: 7, softmax }), 3, 21);
      expect(planOut).toHaveLength(3 * 6);
      expect(Math.max(...refOut.map(Math.abs))).toBeGreaterThan(0.05);
      expect(relativeDiff(planOut, refOut)).toBeLessThan(1e-4);
    }
  });

  it('folds BN, fuses Relu and both ResNet shortcut kinds into convs, and keeps the per-sample shapes', () => {
    const { plan, weights, inputShape, outputShape } = compilePlan(buildSmallCnn({ seed: 7 }));
    expect(inputShape).toEqual([3, 13, 11]);
    expect(outputShape).toEqual([6]);
    expect(opsOf(plan.steps)).toEqual([
      'conv+relu', // conv1 + bn1 + relu1
      'conv+relu', // grouped strided conv2
      'maxpool',
      'conv+relu', // b1.conv1
      'conv+relu+res', // b1.conv2 + add(maxpool output) + relu
      'conv+relu', // b2.conv1
      'conv', // b2.conv2: computed before the shortcut conv, so it cannot take it as residual
      'conv+relu+res', // b2.down + add(b2.conv2 output) + relu
      'avgpool',
      'avgpool',
      'globalavgpool',
      'gemm+relu',
      'gemm',
      'softmax',
    ]);
    const [, conv2, maxpool, , b1conv2, , b2conv2, b2down] = plan.steps as PlanStep[];
    expect(conv2).toMatchObject({ groups: 4, strides: [2, 2], pads: [1, 1, 1, 1], weight: { shape: [8, 2, 3, 3] } });
    expect(b1conv2).toMatchObject({ residual: maxpool!.y });
    expect(b2down).toMatchObject({ residual: b2conv2!.y, strides: [2, 2] });
    // 13x11 → conv s1 → 13x11 → conv s2 p1 → 7x6 → maxpool k3 s2 p1 → 4x3 → b2 s2 → 2x2.
    expect(plan.tensors[maxpool!.y]!.shape).toEqual([8, 4, 3]);
    expect(plan.tensors[b2down!.y]!.shape).toEqual([12, 2, 2]);
    expect(plan.steps.filter((s) => s.op === 'avgpool').map((s) => 'countIncludePad' in s && s.countIncludePad)).toEqual([true, false]);
    // Flatten is an alias: the gemm reads the global pool's [C,1,1] tensor.
    const gap = plan.steps[10]!;
    expect(plan.steps[11]).toMatchObject({ op: 'gemm', x: gap.y, weight: { shape: [10, 12] } });
    expect(plan.tensors[gap.y]!.shape).toEqual([12, 1, 1]);
    // Dense ids, first the input; the plan survives JSON (what the addon receives).
    expect(plan.input.tensor).toBe(0);
    expect(plan.tensors.map((t) => t.id)).toEqual(plan.tensors.map((_, i) => i));
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
    validatePlan(plan, weights);
  });

  it('places every weight on a 64-float boundary, without overlaps', () => {
    const { plan, weights } = compilePlan(buildSmallCnn({ seed: 2 }));
    const refs = plan.steps.flatMap((s) => (s.op === 'conv' ? [s.weight, s.bias] : s.op === 'gemm' ? [s.weight, ...(s.bias ? [s.bias] : [])] : []));
    expect(refs).toHaveLength(2 * 7 + 3); // 7 convs (weight + bias), fc1 weight + bias, fc2 weight
    const sorted = [...refs].sort((a, b) => a.offset - b.offset);
    sorted.forEach((r, i) => {
      expect(r.offset % 64).toBe(0);
      if (i > 0) expect(r.offset).toBeGreaterThanOrEqual(sorted[i - 1]!.offset + sorted[i - 1]!.length);
    });
    expect(plan.weightCount).toBe(weights.length);
    expect(weights.length).toBe(sorted.at(-1)!.offset + sorted.at(-1)!.length);
  });

  it('compiles the colour classifier (GlobalAveragePool → Flatten → Gemm transB=1) and agrees with the reference', () => {
    const { graph } = buildColourClassifier();
    const { plan, outputShape } = compilePlan(graph);
    expect(opsOf(plan.steps)).toEqual(['globalavgpool', 'gemm']);
    expect(outputShape).toEqual([11]);
    const { planOut, refOut } = agree(graph, 2, 4);
    expect(relativeDiff(planOut, refOut)).toBeLessThan(1e-4);
  });

  it('accepts a fixed batch of 1 and Reshape to [N,C] (0/-1 and 1/-1 forms) as an alias', () => {
    for (const spec of [[0, -1], [-1, 6], [1, -1]]) {
      const g = new GraphBuilder();
      const gap = g.node('GlobalAveragePool', 'gap', ['INPUT_0']);
      const flat = g.node('Reshape', 'reshape', [gap, g.int64('shape', spec)]);
      g.node('Gemm', 'fc', [flat, g.float32('w', [6, 2], randomValues(12, 3)), g.float32('b', [2], randomValues(2, 4))], { transB: attr.int(0) }, 'OUTPUT_0');
      const graph = g.build('t', [{ name: 'INPUT_0', dtype: 'FP32', shape: [1, 6, 5, 5] }], [{ name: 'OUTPUT_0', dtype: 'FP32', shape: [1, 2] }]);
      const { plan } = compilePlan(graph);
      expect(opsOf(plan.steps)).toEqual(['globalavgpool', 'gemm']);
      const { planOut, refOut } = agree(graph, 1, 9);
      expect(relativeDiff(planOut, refOut)).toBeLessThan(1e-5);
    }
  });

  it('does not fuse a Relu or an Add into a conv whose output is read elsewhere', () => {
    const g = new GraphBuilder();
    const conv = g.node('Conv', 'conv', ['INPUT_0', g.float32('w', [4, 4, 1, 1], randomValues(16, 1))], {});
    const r = g.node('Relu', 'relu', [conv]);
    const s = g.node('Add', 'sum', [r, conv]);
    g.node('Add', 'out', [s, 'INPUT_0'], {}, 'OUTPUT_0');
    const graph = g.build('t', [{ name: 'INPUT_0', dtype: 'FP32', shape: [-1, 4, 3, 3] }], [{ name: 'OUTPUT_0', dtype: 'FP32', shape: [-1, 4, 3, 3] }]);
    const { plan } = compilePlan(graph);
    expect(opsOf(plan.steps)).toEqual(['conv', 'relu', 'add', 'add']);
    const { planOut, refOut } = agree(graph, 2, 3);
    expect(relativeDiff(planOut, refOut)).toBeLessThan(1e-5);
  });

  it('drops steps whose results nothing reads', () => {
    const g = new GraphBuilder();
    g.node('MaxPool', 'unused', ['INPUT_0'], { kernel_shape: attr.ints([2, 2]) });
    g.node('Relu', 'relu', ['INPUT_0'], {}, 'OUTPUT_0');
    const graph = g.build('t', [{ name: 'INPUT_0', dtype: 'FP32', shape: [-1, 4, 3, 3] }], [{ name: 'OUTPUT_0', dtype: 'FP32', shape: [-1, 4, 3, 3] }]);
    const { plan } = compilePlan(graph);
    expect(opsOf(plan.steps)).toEqual(['relu']);
    expect(plan.tensors).toEqual([{ id: 0, shape: [4, 3, 3] }, { id: 1, shape: [4, 3, 3] }]);
  });

  it('does not fuse an Add into a conv when the other operand is computed after that conv', () => {
    const g = new GraphBuilder();
    const early = g.node('Conv', 'early', ['INPUT_0', g.float32('w1', [4, 4, 1, 1], randomValues(16, 1))], {});
    const late = g.node('Relu', 'late', [g.node('Conv', 'c2', ['INPUT_0', g.float32('w2', [4, 4, 1, 1], randomValues(16, 2))], {})]);
    g.node('Add', 'sum', [early, late], {}, 'OUTPUT_0');
    const graph = g.build('t', [{ name: 'INPUT_0', dtype: 'FP32', shape: [-1, 4, 3, 3] }], [{ name: 'OUTPUT_0', dtype: 'FP32', shape: [-1, 4, 3, 3] }]);
    const { plan, weights } = compilePlan(graph);
    expect(opsOf(plan.steps)).toEqual(['conv', 'conv+relu', 'add']);
    validatePlan(plan, weights);
  });

  it('refuses what the GPU backend does not run, naming the node', () => {
    expect(unsupportedMessage(oneOp('LeakyRelu', {}))).toBe(
      "the native GPU backend cannot run this model: operator 'LeakyRelu' (node 'the_node')",
    );
    expect(unsupportedMessage(oneOp('MaxPool', { kernel_shape: attr.ints([2, 2]), ceil_mode: attr.int(1) }))).toMatch(/MaxPool \(node 'the_node'\): ceil_mode 1/);
    expect(unsupportedMessage(oneOp('Relu', {}, { input: [-1, 4, -1, -1] }))).toMatch(/C, H and W fixed/);
    expect(unsupportedMessage(oneOp('Relu', {}, { input: [4, 4, 6, 6] }))).toMatch(/\[N,C,H,W\]/);
    expect(unsupportedMessage(oneOp('Flatten', { axis: attr.int(1) }))).toMatch(/only \[N,C,1,1\] to \[N,C\]/);
    expect(unsupportedMessage(oneOp('Softmax', { axis: attr.int(1) }))).toMatch(/softmax over axis 1/);
    expect(unsupportedMessage(oneOp('Add', {}, { extraInputs: (g) => [g.float32('c', [4, 1, 1], randomValues(4, 1))] }))).toMatch(/input 1 is a constant/);
    const broadcast = new GraphBuilder();
    const gap = broadcast.node('GlobalAveragePool', 'gap', ['INPUT_0']);
    broadcast.node('Add', 'add', ['INPUT_0', gap], {}, 'OUTPUT_0');
    expect(unsupportedMessage(broadcast.build('t', [{ name: 'INPUT_0', dtype: 'FP32', shape: [-1, 4, 6, 6] }], [{ name: 'OUTPUT_0', dtype: 'FP32', shape: [-1, 4, 6, 6] }]))).toMatch(
      /broadcasting \[N,4,6,6\] with \[N,4,1,1\]/,
    );
    const twoInputs = { ...oneOp('Relu', {}), inputs: [{ name: 'INPUT_0', dtype: 'FP32' as const, shape: [-1, 4, 6, 6] }, { name: 'X', dtype: 'FP32' as const, shape: [-1, 4, 6, 6] }] };
    expect(unsupportedMessage(twoInputs)).toMatch(/2 inputs/);
    const int8 = { ...oneOp('Relu', {}), inputs: [{ name: 'INPUT_0', dtype: 'INT8' as const, shape: [-1, 4, 6, 6] }] };
    expect(unsupportedMessage(int8)).toMatch(/INT8/);
    // A Reshape that would fix a dynamic batch to 1.
    const g = new GraphBuilder();
    g.node('Reshape', 'r', [g.node('GlobalAveragePool', 'gap', ['INPUT_0']), g.int64('s', [1, -1])], {}, 'OUTPUT_0');
    expect(unsupportedMessage(g.build('t', [{ name: 'INPUT_0', dtype: 'FP32', shape: [-1, 4, 6, 6] }], [{ name: 'OUTPUT_0', dtype: 'FP32', shape: [-1, 4] }]))).toMatch(
      /does not keep the batch dimension first/,
    );
  });

  it('supports SAME_UPPER auto_pad and dilations as the reference evaluator reads them, and refuses asymmetric conv pads', () => {
    const g = new GraphBuilder();
    const c1 = g.node('Conv', 'c1', ['INPUT_0', g.float32('w1', [3, 2, 3, 3], randomValues(54, 1))], { dilations: attr.ints([2, 2]), pads: attr.ints([2, 1, 2, 1]) });
    g.node('Conv', 'c2', [c1, g.float32('w2', [2, 3, 3, 3], randomValues(54, 2))], { auto_pad: attr.string('SAME_UPPER'), strides: attr.ints([2, 2]) }, 'OUTPUT_0');
    const graph = g.build('t', [{ name: 'INPUT_0', dtype: 'FP32', shape: [-1, 2, 7, 9] }], [{ name: 'OUTPUT_0', dtype: 'FP32', shape: [-1, 2, -1, -1] }]);
    const { plan, weights, outputShape } = compilePlan(graph);
    // c1: k3 d2 spans 5: 7+4−5+1 = 7 rows, 9+2−5+1 = 7 columns. c2 SAME_UPPER k3 s2 on 7x7: ceil(7/2) = 4,
    // total pad (4−1)·2+3−7 = 2 per axis, split 1 and 1.
    expect(outputShape).toEqual([2, 4, 4]);
    expect(plan.steps[1]).toMatchObject({ pads: [1, 1, 1, 1] });
    // reference-eval has no auto_pad: give it those explicit pads.
    const explicit: Graph = { ...graph, nodes: graph.nodes.map((n) => (n.name === 'c2' ? { ...n, attrs: { strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) } } : n)) };
    const data = randomValues(2 * 2 * 7 * 9, 6);
    const ref = evaluate(explicit, { INPUT_0: { shape: [2, 2, 7, 9], data } }).OUTPUT_0!;
    expect(ref.shape).toEqual([2, 2, 4, 4]);
    expect(relativeDiff(runPlan(plan, weights, data, 2), ref.data)).toBeLessThan(1e-5);

    // SAME_UPPER k2 s2 on 7 rows needs one pad row, at the bottom only: cuDNN cannot pad one side.
    const k2 = oneOp('Conv', { auto_pad: attr.string('SAME_UPPER'), strides: attr.ints([2, 2]) }, { input: [-1, 4, 7, 8], extraInputs: (b) => [b.float32('w', [2, 4, 2, 2], randomValues(32, 1))] });
    expect(unsupportedMessage(k2)).toMatch(/Conv \(node 'the_node'\): asymmetric pads \[0,0,1,0\]/);
    expect(unsupportedMessage(oneOp('MaxPool', { kernel_shape: attr.ints([2, 2]), pads: attr.ints([2, 0, 0, 0]) }))).toMatch(/not smaller than the kernel/);
  });
});
