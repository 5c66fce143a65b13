import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../src/core/graph/builders/graph-builder.js';
import { attr } from '../../../../src/core/graph/ir.js';
import { evaluate } from '../../../fixtures/reference-eval.js';

/** Hand-worked cases, so the evaluator that checks ORT is itself checked against arithmetic. */
describe('reference evaluator', () => {
  it('computes a padded, strided, grouped conv by hand', () => {
    const g = new GraphBuilder();
    // 2 input channels, 2 groups: output channel k sees only input channel k.
    g.float32('w', [2, 1, 2, 2], new Float32Array([1, 0, 0, 1, /**/ 1, 1, 1, 1]));
    g.float32('b', [2], new Float32Array([0, 10]));
    g.node('Conv', 'y', ['x', 'w', 'b'], { group: attr.int(2), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 0, 0]) });
    const graph = g.build('t', [{ name: 'x', dtype: 'FP32', shape: [1, 2, 3, 3] }], [{ name: 'y', dtype: 'FP32', shape: [1, 2, 2, 2] }]);
    // channel 0 = 1..9, channel 1 = all ones
    const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    const y = evaluate(graph, { x: { shape: [1, 2, 3, 3], data: x } }).y!;
    expect(y.shape).toEqual([1, 2, 2, 2]);
    // Pads top/left only, stride 2: windows start at (-1,-1), (-1,1), (1,-1), (1,1).
    // ch0, diagonal kernel [r][c] + [r+1][c+1] on the grid 1..9: 0+1, 0+3, 0+7, 5+9.
    // ch1, all-ones kernel on ones: in-bounds cells 1, 2, 2, 4, plus bias 10.
    expect([...y.data]).toEqual([1, 3, 7, 14, 11, 12, 12, 14]);
  });

  it('pools, normalizes, and broadcasts as the ONNX spec says', () => {
    const g = new GraphBuilder();
    g.float32('s', [1], new Float32Array([2]));
    g.float32('bias', [1], new Float32Array([1]));
    g.float32('m', [1], new Float32Array([1]));
    g.float32('v', [1], new Float32Array([4]));
    const mp = g.node('MaxPool', 'mp', ['x'], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) });
    const ap = g.node('AveragePool', 'ap', ['x'], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) });
    g.node('BatchNormalization', 'bn', [mp, 's', 'bias', 'm', 'v'], { epsilon: attr.float(0) });
    g.node('Add', 'sum', [ap, 's']);
    const io = (name: string, shape: number[]) => ({ name, dtype: 'FP32' as const, shape });
    const graph = g.build('t', [io('x', [1, 1, 2, 2])], [io('mp', [1, 1, 1, 1]), io('ap', [1, 1, 2, 2]), io('bn', [1, 1, 1, 1]), io('sum', [1, 1, 2, 2])]);
    const out = evaluate(graph, { x: { shape: [1, 1, 2, 2], data: new Float32Array([1, 2, 3, 4]) } });
    expect([...out.mp!.data]).toEqual([4]);
    // count_include_pad=0: each 3x3 window covers all four real cells → mean 2.5
    expect([...out.ap!.data]).toEqual([2.5, 2.5, 2.5, 2.5]);
    // (4 - 1) / sqrt(4) * 2 + 1 = 4
    expect([...out.bn!.data]).toEqual([4]);
    expect([...out.sum!.data]).toEqual([4.5, 4.5, 4.5, 4.5]);
  });

  it('does Gemm with transB/alpha/beta, Softmax and Reshape with 0 and -1', () => {
    const g = new GraphBuilder();
    g.float32('B', [2, 3], new Float32Array([1, 0, 0, 0, 1, 1]));
    g.float32('C', [2], new Float32Array([1, -1]));
    g.int64('shape', [0, -1]);
    const r = g.node('Reshape', 'r', ['x', 'shape']);
    g.node('Gemm', 'gemm', [r, 'B', 'C'], { transB: attr.int(1), alpha: attr.float(2), beta: attr.float(3) });
    g.node('Softmax', 'sm', ['gemm'], { axis: attr.int(1) });
    const io = (name: string, shape: number[]) => ({ name, dtype: 'FP32' as const, shape });
    const graph = g.build('t', [io('x', [1, 3, 1])], [io('r', [1, 3]), io('gemm', [1, 2]), io('sm', [1, 2])]);
    const out = evaluate(graph, { x: { shape: [1, 3, 1], data: new Float32Array([1, 2, 3]) } });
    expect(out.r!.shape).toEqual([1, 3]);
    // 2·[1, 2+3] + 3·[1, -1] = [5, 7]
    expect([...out.gemm!.data]).toEqual([5, 7]);
    const e = Math.exp(-2);
    expect(out.sm!.data[0]).toBeCloseTo(e / (1 + e), 6);
  });
});
