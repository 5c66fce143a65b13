import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../../src/core/graph/builders/graph-builder.js';
import { buildResNet50 } from '../../../../../src/core/graph/builders/resnet50.js';
import { attr, type Graph } from '../../../../../src/core/graph/ir.js';
import { foldBatchNorm } from '../../../../../src/core/graph/passes/fold-batchnorm.js';
import { buildSmallCnn, relativeDiff } from '../../../../fixtures/native-models.js';
import { randomValues } from '../../../../fixtures/ort.js';
import { evaluate } from '../../../../fixtures/reference-eval.js';

const ops = (g: Graph): string[] => g.nodes.map((n) => n.op);
const run = (g: Graph, shape: number[], seed: number): Float32Array =>
  evaluate(g, { INPUT_0: { shape, data: randomValues(shape.reduce((a, b) => a * b, 1), seed) } }).OUTPUT_0!.data;

describe('foldBatchNorm', () => {
  it('computes the same function on a small CNN (biased, bias-free and grouped convs), without BatchNormalization', () => {
    const graph = buildSmallCnn({ seed: 3, softmax: false });
    const snapshot = structuredClone(graph);
    const folded = foldBatchNorm(graph);

    expect(graph).toEqual(snapshot); // pure: the input graph is untouched
    expect(ops(graph).filter((o) => o === 'BatchNormalization')).toHaveLength(7);
    expect(ops(folded)).not.toContain('BatchNormalization');
    expect(folded.nodes).toHaveLength(graph.nodes.length - 7);
    // Every folded conv has a bias now, including the three that had none.
    for (const conv of folded.nodes.filter((n) => n.op === 'Conv')) expect(conv.inputs[2]).toBeTruthy();
    // BN parameters are gone; nothing is left dangling.
    const names = new Set(folded.initializers.map((i) => i.name));
    expect([...names].some((n) => /\.(scale|B|mean|var)$/.test(n))).toBe(false);
    for (const n of folded.nodes.flatMap((n) => n.inputs)) if (n !== 'INPUT_0' && !folded.nodes.some((m) => m.outputs.includes(n))) expect(names.has(n)).toBe(true);

    const shape = [2, 3, 13, 11];
    const before = run(graph, shape, 5);
    const after = run(folded, shape, 5);
    expect(Math.max(...before.map(Math.abs))).toBeGreaterThan(0.1);
    expect(relativeDiff(after, before)).toBeLessThan(1e-5);
  });

  it('leaves a BatchNormalization whose conv output is also read elsewhere, or that follows no conv', () => {
    const g = new GraphBuilder();
    const c = 2;
    const p = (name: string, lo: number, hi: number, seed: number): string => g.float32(name, [c], randomValues(c, seed, lo, hi));
    const bnInputs = (prefix: string, s: number): string[] => [p(`${prefix}.g`, 0.5, 1.5, s), p(`${prefix}.b`, -1, 1, s + 1), p(`${prefix}.m`, -1, 1, s + 2), p(`${prefix}.v`, 0.5, 1.5, s + 3)];
    const conv = g.node('Conv', 'conv', ['INPUT_0', g.float32('w', [c, c, 1, 1], randomValues(c * c, 9))], { kernel_shape: attr.ints([1, 1]) });
    const bn = g.node('BatchNormalization', 'bn', [conv, ...bnInputs('bn', 10)]);
    const bn2 = g.node('BatchNormalization', 'bn2', ['INPUT_0', ...bnInputs('bn2', 20)]);
    const sum = g.node('Add', 'sum', [bn, conv]);
    g.node('Add', 'out', [sum, bn2], {}, 'OUTPUT_0');
    const graph = g.build('t', [{ name: 'INPUT_0', dtype: 'FP32', shape: [-1, c, 3, 3] }], [{ name: 'OUTPUT_0', dtype: 'FP32', shape: [-1, c, 3, 3] }]);
    expect(foldBatchNorm(graph)).toBe(graph);
  });

  it('gives a weight shared by two convs a folded copy, keeping the original for the other conv', () => {
    const g = new GraphBuilder();
    const w = g.float32('shared.weight', [4, 3, 3, 3], randomValues(108, 4));
    const k = { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) };
    const a = g.node('Conv', 'a', ['INPUT_0', w], k);
    const bnp = (n: string, s: number, lo: number, hi: number): string => g.float32(n, [4], randomValues(4, s, lo, hi));
    const folded = g.node('BatchNormalization', 'bn', [a, bnp('g', 1, 0.5, 1.5), bnp('b', 2, -1, 1), bnp('m', 3, -1, 1), bnp('v', 4, 0.5, 2)]);
    const b = g.node('Conv', 'b', ['INPUT_0', w], k);
    g.node('Add', 'sum', [folded, b], {}, 'OUTPUT_0');
    const graph = g.build('t', [{ name: 'INPUT_0', dtype: 'FP32', shape: [-1, 3, 5, 5] }], [{ name: 'OUTPUT_0', dtype: 'FP32', shape: [-1, 4, 5, 5] }]);
    const out = foldBatchNorm(graph);
    expect(ops(out)).toEqual(['Conv', 'Conv', 'Add']);
    expect(out.nodes[0]!.inputs[1]).not.toBe('shared.weight');
    expect(out.nodes[1]!.inputs[1]).toBe('shared.weight');
    expect(out.initializers.find((i) => i.name === 'shared.weight')).toBe(graph.initializers.find((i) => i.name === 'shared.weight'));
    expect(relativeDiff(run(out, [1, 3, 5, 5], 8), run(graph, [1, 3, 5, 5], 8))).toBeLessThan(1e-5);
  });

  it('folds all 53 BatchNormalizations of ResNet-50 into its 53 convs', () => {
    const graph = buildResNet50({ seed: 1 });
    const out = foldBatchNorm(graph);
    expect(ops(out).filter((o) => o === 'BatchNormalization')).toHaveLength(0);
    const convs = out.nodes.filter((n) => n.op === 'Conv');
    expect(convs).toHaveLength(53);
    for (const c of convs) expect(c.inputs).toHaveLength(3);
    expect(out.nodes).toHaveLength(graph.nodes.length - 53);
    // 53 conv weights + 53 biases + fc weight and bias.
    expect(out.initializers).toHaveLength(53 * 2 + 2);
    expect(out.outputs).toEqual(graph.outputs);
  });
});
