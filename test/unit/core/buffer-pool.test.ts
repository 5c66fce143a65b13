import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../../src/core/buffer-pool.js';

describe('BufferPool', () => {
  it('rounds sizes up to the step, so nearly equal sizes share a returned buffer', () => {
    const pool = new BufferPool(2, 1 << 20, 16);
    const a = pool.take(20);
    expect(a.byteLength).toBe(32);
    pool.give(a);
    expect(pool.bytes).toBe(32);
    expect(pool.take(8)).not.toBe(a);
    expect(pool.take(31)).toBe(a);
    expect(pool.bytes).toBe(0);
    expect(pool.take(32)).not.toBe(a);
  });

  it('keeps at most perSize spares of a capacity and maxBytes in all, and ignores buffers it did not make', () => {
    const pool = new BufferPool(2, 48, 8);
    for (let i = 0; i < 3; i++) pool.give(pool.take(8));
    const spares = [pool.take(8), pool.take(8), pool.take(8)];
    for (const b of spares) pool.give(b);
    expect(pool.bytes).toBe(16);
    pool.give(pool.take(40));
    expect(pool.bytes).toBe(16);
    pool.give(pool.take(32));
    expect(pool.bytes).toBe(48);
    const detached = new ArrayBuffer(8);
    structuredClone(detached, { transfer: [detached] });
    const odd = new ArrayBuffer(12);
    const fresh = new BufferPool(2, 48, 8);
    fresh.give(detached);
    fresh.give(odd);
    expect(fresh.bytes).toBe(0);
  });
});
