import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../../src/core/buffer-pool.js';

describe('BufferPool', () => {
  it('gives back a returned buffer of the same size, and a new one for other sizes', () => {
    const pool = new BufferPool();
    const a = pool.take(16);
    pool.give(a);
    expect(pool.bytes).toBe(16);
    expect(pool.take(8)).not.toBe(a);
    expect(pool.take(16)).toBe(a);
    expect(pool.bytes).toBe(0);
    expect(pool.take(16)).not.toBe(a);
  });

  it('keeps at most perSize spares of a size and maxBytes in all, and ignores detached buffers', () => {
    const pool = new BufferPool(2, 40);
    for (let i = 0; i < 3; i++) pool.give(new ArrayBuffer(8));
    expect(pool.bytes).toBe(16);
    pool.give(new ArrayBuffer(32));
    expect(pool.bytes).toBe(16);
    pool.give(new ArrayBuffer(24));
    expect(pool.bytes).toBe(40);
    const detached = new ArrayBuffer(4);
    structuredClone(detached, { transfer: [detached] });
    pool.give(detached);
    expect(pool.bytes).toBe(40);
  });
});
