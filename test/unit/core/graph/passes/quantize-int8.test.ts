import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { attr, type Graph } from '../../../../../src/core/graph/ir.js';
import { GraphBuilder } from '../../../../../src/core/graph/builders/graph-builder.js';
import { writeOnnxModel } from '../../../../../src/core/graph/onnx-writer.js';
import { float32Values } from '../../../../../src/core/graph/passes/initializer-values.js';
import { rangeCollector } from '../../../../../src/core/graph/passes/calibration.js';
import { activationParams, quantizationTargets, quantizeInt8, type ActivationRange } from '../../../../../src/core/graph/passes/quantize-int8.js';
import { runCalibration } from '../../../../../src/runtime/onnxruntime/calibrate.js';
import { randomValues } from '../../../../fixtures/ort.js';

const H = 16;

/** conv → BN → relu → maxpool → conv → (+ skip) → relu → GAP → flatten → gemm: every case the pass handles. */
function smallNet(): Graph {
  const g = new GraphBuilder();
  let seed = 1;
  const p = (name: string, shape: number[], lo = -0.5, hi = 0.5): string => g.float32(name, shape, randomValues(shape.reduce((a, b) => a * b, 1), seed++, lo, hi));
  const conv = (name: string, x: string, cin: number, cout: number, bias: boolean): string =>
    g.node('Conv', name, [x, p(`${name}.weight`, [cout, cin, 3, 3]), ...(bias ? [p(`${name}.bias`, [cout])] : [])], {
      kernel_shape: attr.ints([3, 3]),
      pads: attr.ints([1, 1, 1, 1]),
    });
  const c1 = conv('c1', 'x', 3, 8, false);
  const bn = g.node('BatchNormalization', 'bn1', [c1, p('bn1.g', [8], 0.5, 1.5), p('bn1.b', [8]), p('bn1.m', [8]), p('bn1.v', [8], 0.5, 1.5)], { epsilon: attr.float(1e-5) });
  const r1 = g.node('Relu', 'r1', [bn]);
  const mp = g.node('MaxPool', 'mp', [r1], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) });
  const c2 = conv('c2', mp, 8, 8, true);
  const add = g.node('Add', 'add', [c2, mp]);
  const r2 = g.node('Relu', 'r2', [add]);
  const gap = g.node('GlobalAveragePool', 'gap', [r2]);
  const flat = g.node('Flatten', 'flat', [gap], { axis: attr.int(1) });
  g.node('Gemm', 'fc', [flat, p('fc.weight', [10, 8]), p('fc.bias', [10])], { transB: attr.int(1) }, 'y');
  return g.build('small', [{ name: 'x', dtype: 'FP32', shape: [-1, 3, H, H] }], [{ name: 'y', dtype: 'FP32', shape: [-1, 10] }]);
}

async function run(model: Uint8Array, x: Float32Array, n: number): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model);
  try {
    const out = await s.run({ x: new ort.Tensor('float32', x, [n, 3, H, H]) });
    return out.y!.data as Float32Array;
  } finally {
    await s.release();
  }
}

async function calibrate(graph: Graph, inputs: Float32Array[]): Promise<Map<string, ActivationRange>> {
  const targets = quantizationTargets(graph);
  const collectors = new Map(targets.activations.map((a) => [a, rangeCollector('minmax')]));
  const observed = targets.activations.filter((a) => a !== 'x');
  for (const i of inputs) collectors.get('x')!.add(i);
  async function* feed() {
    for (const data of inputs) yield { data, shape: [1, 3, H, H] };
  }
  const n = await runCalibration(writeOnnxModel(targets.graph, { extraFp32Outputs: observed }), 'x', observed, feed(), (name, v) => collectors.get(name)!.add(v));
  expect(n).toBe(inputs.length);
  return new Map([...collectors].map(([k, c]) => [k, c.range()]));
}

describe('quantizeInt8', () => {
  it('writes QDQ that onnxruntime runs, close to FP32', async () => {
    const graph = smallNet();
    const calibration = Array.from({ length: 8 }, (_, i) => randomValues(3 * H * H, 100 + i, 0, 1));
    const ranges = await calibrate(graph, calibration);
    const q = quantizeInt8(graph, ranges);

    expect(q.nodes.some((n) => n.op === 'BatchNormalization' || n.op === 'Relu')).toBe(false);
    // One Q per activation; one DQ per (activation, consumer) and per weight/bias.
    expect(q.nodes.filter((n) => n.op === 'QuantizeLinear').length).toBe(6); // x, c1/r1, mp, c2, add/r2, flat
    expect(q.initializers.filter((i) => i.dtype === 'INT8' && i.shape.length > 1).map((i) => i.shape)).toEqual([[8, 3, 3, 3], [8, 8, 3, 3], [10, 8]]);
    expect(q.initializers.some((i) => i.dtype === 'FP32' && i.shape.length > 1)).toBe(false);

    const n = 4;
    const x = new Float32Array(n * 3 * H * H);
    for (let i = 0; i < n; i++) x.set(randomValues(3 * H * H, 500 + i, 0, 1), i * 3 * H * H);
    const [fp32, int8] = await Promise.all([run(writeOnnxModel(graph), x, n), run(writeOnnxModel(q), x, n)]);
    const spread = Math.max(...fp32) - Math.min(...fp32);
    let worst = 0;
    for (let i = 0; i < fp32.length; i++) worst = Math.max(worst, Math.abs(fp32[i]! - int8[i]!));
    expect(worst).toBeGreaterThan(0); // it really is quantized
    expect(worst).toBeLessThan(0.05 * spread);
  });

  it('quantizes weights per output channel, symmetric', async () => {
    const graph = smallNet();
    const ranges = new Map(quantizationTargets(graph).activations.map((a) => [a, { min: -1, max: 4 }]));
    const q = quantizeInt8(graph, ranges);
    const dq = q.nodes.find((n) => n.op === 'DequantizeLinear' && n.inputs[0]?.startsWith('c2.weight'))!;
    expect(dq.attrs.axis).toEqual({ kind: 'int', value: 0 });
    const init = (name: string) => q.initializers.find((i) => i.name === name)!;
    const scales = float32Values(init(dq.inputs[1]!));
    const values = new Int8Array(init(dq.inputs[0]!).data.slice().buffer);
    const original = float32Values(graph.initializers.find((i) => i.name === 'c2.weight')!);
    expect(scales.length).toBe(8);
    expect([...init(dq.inputs[2]!).data]).toEqual(Array(8).fill(0));
    for (let c = 0; c < 8; c++) {
      const slice = original.subarray(c * 72, (c + 1) * 72);
      const absMax = Math.max(...slice.map(Math.abs));
      expect(scales[c]).toBeCloseTo(absMax / 127, 6);
      const qs = values.subarray(c * 72, (c + 1) * 72);
      expect(Math.max(...[...qs].map(Math.abs))).toBe(127);
      for (let j = 0; j < 72; j++) expect(Math.abs(qs[j]! * scales[c]! - slice[j]!)).toBeLessThanOrEqual(scales[c]! / 2 + 1e-7);
    }
    // Gemm without transB would quantize along axis 1; with transB=1, rows (axis 0).
    expect(q.nodes.find((n) => n.op === 'DequantizeLinear' && n.inputs[0]?.startsWith('fc.weight'))!.attrs.axis).toEqual({ kind: 'int', value: 0 });
    // Bias: INT32 at input scale × weight scale.
    const biasDq = q.nodes.find((n) => n.op === 'DequantizeLinear' && n.inputs[0]?.startsWith('c2.bias'))!;
    expect(init(biasDq.inputs[0]!).dtype).toBe('INT32');
    expect(float32Values(init(biasDq.inputs[1]!))[3]).toBeCloseTo(activationParams({ min: -1, max: 4 }).scale * scales[3]!, 9);
  });

  it('refuses to quantize an activation it has no range for', () => {
    expect(() => quantizeInt8(smallNet(), new Map())).toThrow(/no calibration range/);
  });

  it('picks UINT8 parameters that hold 0 exactly', () => {
    expect(activationParams({ min: 0, max: 2.55 })).toEqual({ scale: Math.fround(0.01), zeroPoint: 0 });
    const p = activationParams({ min: -1, max: 3 });
    expect(p.zeroPoint).toBe(64);
    expect(activationParams({ min: 1, max: 2 }).zeroPoint).toBe(0); // range widened to include 0
    expect(activationParams({ min: 0, max: 0 })).toEqual({ scale: 1, zeroPoint: 0 });
  });
});

describe('calibration methods', () => {
  const values = (): Float32Array => randomValues(200_000, 7, 0, 1);
  it('minmax keeps the outlier; percentile and entropy clip it', () => {
    const ranges = (['minmax', 'percentile', 'entropy'] as const).map((m) => {
      const c = rangeCollector(m);
      c.add(values().subarray(0, 100_000));
      c.add(values().subarray(100_000));
      c.add(Float32Array.of(50)); // one outlier, in a batch of its own, after the histogram exists
      return c.range();
    });
    expect(ranges[0]).toEqual({ min: expect.closeTo(0, 3), max: 50 });
    expect(ranges[1]!.max).toBeGreaterThan(0.9);
    expect(ranges[1]!.max).toBeLessThan(1.1);
    // Entropy never clips below `levels` histogram bins (256 of 2048 here, so 50 × 256 / 2048).
    expect(ranges[2]!.max).toBeGreaterThan(0.9);
    expect(ranges[2]!.max).toBeLessThanOrEqual(6.25);
  });
});
