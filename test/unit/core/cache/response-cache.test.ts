import { describe, expect, it } from 'vitest';
import { parseCacheConfig } from '../../../../src/core/cache/cache-config.js';
import { ResponseCache, responseCacheKey } from '../../../../src/core/cache/response-cache.js';
import type { Tensor } from '../../../../src/core/tensor/tensor.js';
import { f32, i32 } from '../../../fixtures/fake-models.js';

const out = (bytes: number): Tensor[] => [{ name: 'Y', datatype: 'UINT8', shape: [bytes], data: new Uint8Array(bytes).fill(7) }];

describe('responseCacheKey', () => {
  const x = f32('X', [1, 2], [1, 2]);
  const key = (inputs: Tensor[], outputs?: string[], owner = 'm\u00001\u00001') => responseCacheKey(owner, { inputs, outputs });

  it('is equal for the same inputs in any order and the same set of outputs', () => {
    const y = i32('Z', [1], [5]);
    expect(key([x, y], ['A', 'B'])).toBe(key([y, x], ['B', 'A']));
  });

  it('changes with the model load, any input byte, shape, datatype or name, and the requested outputs', () => {
    const k = key([x]);
    expect(key([x], undefined, 'm\u00001\u00002')).not.toBe(k);
    expect(key([f32('X', [1, 2], [1, 3])])).not.toBe(k);
    expect(key([f32('X', [2, 1], [1, 2])])).not.toBe(k);
    expect(key([{ ...x, datatype: 'INT32' }])).not.toBe(k);
    expect(key([{ ...x, name: 'W' }])).not.toBe(k);
    expect(key([x], ['Y'])).not.toBe(k);
    expect(key([x], ['Y'])).not.toBe(key([x], ['Y', 'Z']));
  });

  it('cannot be forged by moving bytes between fields (every field is length-prefixed)', () => {
    const a = { name: 'ab', datatype: 'UINT8' as const, shape: [1], data: new Uint8Array([1]) };
    const b = { name: 'a', datatype: 'UINT8' as const, shape: [1], data: new Uint8Array([1]) };
    expect(key([a])).not.toBe(key([b]));
  });
});

describe('ResponseCache', () => {
  it('returns a copy of what was inserted, not a view into the batch buffer', () => {
    const c = new ResponseCache(10_000);
    const batch = new Uint8Array([1, 2, 3, 4]);
    c.insert('k', 'o', [{ name: 'Y', datatype: 'UINT8', shape: [2], data: batch.subarray(2) }]);
    batch.fill(0);
    const hit = c.lookup('k');
    expect(Array.from(hit?.[0].data ?? [])).toEqual([3, 4]);
    expect(hit?.[0].data.buffer.byteLength).toBe(2);
  });

  it('stays within its size in bytes, evicting the least recently used entries first', () => {
    const c = new ResponseCache(3000);
    expect(c.insert('a', 'o', out(600))).toBe(true);
    expect(c.insert('b', 'o', out(600))).toBe(true);
    expect(c.insert('c', 'o', out(600))).toBe(true);
    c.lookup('a'); // a is now the most recently used; b is the oldest
    expect(c.insert('d', 'o', out(600))).toBe(true);
    expect(c.lookup('b')).toBeUndefined();
    expect(c.lookup('a')).toBeDefined();
    expect(c.stats().bytes).toBeLessThanOrEqual(3000);
    expect(c.stats().evictions).toBe(1);
  });

  it('never stores a result larger than the whole cache, and keeps what it has', () => {
    const c = new ResponseCache(2000);
    c.insert('a', 'o', out(100));
    expect(c.insert('huge', 'o', out(5000))).toBe(false);
    expect(c.lookup('huge')).toBeUndefined();
    expect(c.lookup('a')).toBeDefined();
  });

  it('drops the entries of one owner (an unloaded model version)', () => {
    const c = new ResponseCache(10_000);
    c.insert('a', 'm1', out(10));
    c.insert('b', 'm2', out(10));
    c.dropOwner('m1');
    expect(c.lookup('a')).toBeUndefined();
    expect(c.lookup('b')).toBeDefined();
    expect(c.stats().entries).toBe(1);
  });
});

describe('parseCacheConfig (tritonserver --cache-config)', () => {
  it("reads Triton's local cache size", () => {
    expect(parseCacheConfig(['local,size=1048576'])).toEqual({ sizeBytes: 1048576 });
    expect(parseCacheConfig(undefined)).toBeUndefined();
    expect(parseCacheConfig([])).toBeUndefined();
  });

  it('refuses other caches, other keys and sizes that are not positive whole bytes, naming the flag', () => {
    expect(() => parseCacheConfig(['redis,host=localhost'])).toThrow(/--cache-config redis,host=localhost: ofserve has only the 'local' cache/);
    expect(() => parseCacheConfig(['local,bytes=10'])).toThrow(/no setting 'bytes'/);
    expect(() => parseCacheConfig(['local'])).toThrow(/missing <key>=<value>/);
    for (const size of ['0', '-5', '1e6', '10MB', '']) {
      expect(() => parseCacheConfig([`local,size=${size}`])).toThrow(/size must be a positive whole number of bytes/);
    }
  });
});
