import { describe, expect, it } from 'vitest';
import { batchShapeKey, concatBatch, splitBatch } from '../../../../src/core/scheduler/batch.js';
import { parseBytesElements, serializeBytesElements } from '../../../../src/core/tensor/bytes.js';
import type { Tensor } from '../../../../src/core/tensor/tensor.js';

const i32 = (name: string, shape: number[], values: number[]): Tensor => ({
  name, datatype: 'INT32', shape, data: new Uint8Array(Int32Array.from(values).buffer),
});
const ints = (t: Tensor): number[] => Array.from(new Int32Array(t.data.slice().buffer));

describe('concatBatch', () => {
  it('stacks each input along dim 0, matching inputs by name', () => {
    const r1 = [i32('A', [1, 2], [1, 2]), i32('B', [1, 1], [9])];
    const r2 = [i32('B', [2, 1], [8, 7]), i32('A', [2, 2], [3, 4, 5, 6])];
    const [a, b] = concatBatch([r1, r2]);
    expect(a.shape).toEqual([3, 2]);
    expect(ints(a)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(b.name).toBe('B');
    expect(ints(b)).toEqual([9, 8, 7]);
  });

  it('refuses requests whose non-batch dims differ', () => {
    expect(() => concatBatch([[i32('A', [1, 2], [1, 2])], [i32('A', [1, 1], [1])]])).toThrow(/cannot batch input 'A'/);
  });

  it('concatenates BYTES serializations', () => {
    const s = (v: string[]): Tensor => ({ name: 'S', datatype: 'BYTES', shape: [v.length], data: serializeBytesElements(v) });
    const [out] = concatBatch([[s(['a'])], [s(['bc', 'd'])]]);
    expect(out.shape).toEqual([3]);
    expect(parseBytesElements(out.data)?.map((x) => Buffer.from(x).toString())).toEqual(['a', 'bc', 'd']);
  });
});

describe('splitBatch', () => {
  it('gives each request its rows back', () => {
    const out = i32('O', [3, 2], [1, 2, 3, 4, 5, 6]);
    const [r1, r2] = splitBatch([out], [1, 2]);
    expect(r1[0].shape).toEqual([1, 2]);
    expect(ints(r1[0])).toEqual([1, 2]);
    expect(r2[0].shape).toEqual([2, 2]);
    expect(ints(r2[0])).toEqual([3, 4, 5, 6]);
  });

  it('splits BYTES outputs by element', () => {
    const out: Tensor = { name: 'S', datatype: 'BYTES', shape: [3, 2], data: serializeBytesElements(['a', 'bb', '', 'ccc', 'd', 'e']) };
    const [r1, r2] = splitBatch([out], [2, 1]);
    expect(parseBytesElements(r1[0].data)?.map((x) => Buffer.from(x).toString())).toEqual(['a', 'bb', '', 'ccc']);
    expect(r2[0].shape).toEqual([1, 2]);
    expect(parseBytesElements(r2[0].data)?.map((x) => Buffer.from(x).toString())).toEqual(['d', 'e']);
  });

  it('fails when the output batch dimension does not match', () => {
    expect(() => splitBatch([i32('O', [2], [1, 2])], [1, 2])).toThrow(/expected batch dimension 3/);
  });
});

describe('batchShapeKey', () => {
  it('ignores the batch dimension and input order but not other dims', () => {
    expect(batchShapeKey([i32('A', [1, 2], [1, 2]), i32('B', [1], [1])])).toBe(batchShapeKey([i32('B', [4], [1, 2, 3, 4]), i32('A', [4, 2], new Array(8).fill(0))]));
    expect(batchShapeKey([i32('A', [1, 2], [1, 2])])).not.toBe(batchShapeKey([i32('A', [1, 3], [1, 2, 3])]));
  });
});
