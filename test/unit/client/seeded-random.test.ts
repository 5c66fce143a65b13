import { describe, expect, it } from 'vitest';
import { randomTensorData, seededRandom } from '../../../src/client/seeded-random.js';
import { halfToNumber } from '../../../src/core/tensor/half.js';
import { bytesToStrings as deserializeStrings } from '../../../src/protocol/typed-tensor.js';

describe('seeded random input data', () => {
  it('repeats for a seed and differs across seeds', () => {
    const a = randomTensorData('FP32', 16, seededRandom(7));
    const b = randomTensorData('FP32', 16, seededRandom(7));
    const c = randomTensorData('FP32', 16, seededRandom(8));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    const f = new Float32Array(a.buffer, a.byteOffset, 16);
    expect(f.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(new Set(f).size).toBeGreaterThan(10);
  });

  it('makes valid elements for every kind of datatype', () => {
    const r = seededRandom(1);
    expect(randomTensorData('INT64', 3, r).byteLength).toBe(24);
    expect(Array.from(randomTensorData('BOOL', 50, r)).every((v) => v === 0 || v === 1)).toBe(true);
    const half = randomTensorData('FP16', 20, r);
    const halves = Array.from(new Uint16Array(half.buffer, half.byteOffset, 20), halfToNumber);
    expect(halves.every((v) => v >= 0 && v < 1)).toBe(true);
    const strings = deserializeStrings(randomTensorData('BYTES', 4, r));
    expect(strings).toHaveLength(4);
    expect(strings.every((s) => /^[a-z]{8}$/.test(s))).toBe(true);
  });
});
