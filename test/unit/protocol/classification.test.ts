import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../../src/core/tensor/tensor.js';
import { classify } from '../../../src/protocol/classification.js';
import { parseBytesElements } from '../../../src/core/tensor/bytes.js';

const f32 = (shape: number[], values: number[]): Tensor => ({
  name: 'OUT',
  datatype: 'FP32',
  shape,
  data: new Uint8Array(Float32Array.from(values).buffer),
});

const strings = (t: Tensor): string[] => (parseBytesElements(t.data) ?? []).map((b) => Buffer.from(b).toString());

describe('classify', () => {
  it('keeps the top k per batch row, best first, with labels', () => {
    const t = f32([2, 4], [0.1, 0.9, -1.25, 0.5, 3, 2, 1, 4]);
    const out = classify(t, { k: 2, batched: true, labels: ['a', 'b', 'c', 'd'] });
    expect(out.datatype).toBe('BYTES');
    expect(out.name).toBe('OUT');
    expect(out.shape).toEqual([2, 2]);
    // 0.9f and 0.5f printed from their exact float32 values.
    expect(strings(out)).toEqual(['0.900000:1:b', '0.500000:3:d', '4.000000:3:d', '3.000000:0:a']);
  });

  it('leaves out the label suffix when there is no label or it is empty', () => {
    const t = f32([1, 3], [1, 3, 2]);
    expect(strings(classify(t, { k: 3, batched: true, labels: ['x', ''] }))).toEqual(['3.000000:1', '2.000000:2', '1.000000:0:x']);
    expect(strings(classify(t, { k: 1, batched: true }))).toEqual(['3.000000:1']);
  });

  it('flattens the whole tensor for a model that does not batch', () => {
    const t = f32([1, 4], [1, -1.25, 7, 2]);
    const out = classify(t, { k: 3, batched: false });
    expect(out.shape).toEqual([3]);
    expect(strings(out)).toEqual(['7.000000:2', '2.000000:3', '1.000000:0']);
  });

  it('clamps k to the number of classes', () => {
    const out = classify(f32([1, 2], [5, 6]), { k: 10, batched: true });
    expect(out.shape).toEqual([1, 2]);
    expect(strings(out)).toEqual(['6.000000:1', '5.000000:0']);
  });

  it('prints integer outputs as integers', () => {
    const t: Tensor = { name: 'I', datatype: 'INT64', shape: [3], data: new Uint8Array(BigInt64Array.from([5n, -7n, 9007199254740993n]).buffer) };
    expect(strings(classify(t, { k: 3, batched: false }))).toEqual(['9007199254740993:2', '5:0', '-7:1']);
    const u: Tensor = { name: 'U', datatype: 'UINT8', shape: [1, 3], data: Uint8Array.from([3, 200, 7]) };
    expect(strings(classify(u, { k: 2, batched: true }))).toEqual(['200:1', '7:2']);
  });

  it('refuses unsupported types with Triton\'s message', () => {
    for (const datatype of ['FP16', 'BF16', 'BOOL', 'BYTES'] as const) {
      const t: Tensor = { name: 'X', datatype, shape: [2], data: new Uint8Array(4) };
      expect(() => classify(t, { k: 1, batched: false })).toThrow(
        `class result not available for output due to unsupported type '${datatype}'`,
      );
    }
  });

  it('refuses tensors over 1,000,000 elements', () => {
    const t: Tensor = { name: 'X', datatype: 'UINT8', shape: [1_000_001], data: new Uint8Array(1_000_001) };
    expect(() => classify(t, { k: 1, batched: false })).toThrow('classification output tensor too large');
  });

  it('orders ties by index and NaN last', () => {
    const out = classify(f32([4], [1, Number.NaN, 1, 2]), { k: 4, batched: false });
    expect(strings(out)).toEqual(['2.000000:3', '1.000000:0', '1.000000:2', 'nan:1']);
  });
});
