import { describe, expect, it } from 'vitest';
import { LoadPool } from '../../../../src/core/repository/load-pool.js';

function gate() {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

describe('LoadPool', () => {
  it('runs at most `size` tasks at once, the rest in the order they asked', async () => {
    const pool = new LoadPool(2);
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      pool.run(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual([0, 1]);
    expect(pool.running).toBe(2);
    gates[1].open();
    await runs[1];
    await new Promise((r) => setTimeout(r, 10));
    expect(started).toEqual([0, 1, 2]);
    expect(pool.running).toBe(2);
    gates.forEach((g) => g.open());
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
    expect(pool.running).toBe(0);
  });

  it('frees the slot of a task that throws', async () => {
    const pool = new LoadPool(1);
    await expect(pool.run(async () => Promise.reject(new Error('bad payload')))).rejects.toThrow('bad payload');
    expect(await pool.run(async () => 'next')).toBe('next');
    expect(pool.running).toBe(0);
  });

  it('refuses a size below 1', () => {
    expect(() => new LoadPool(0)).toThrow(RangeError);
  });
});
