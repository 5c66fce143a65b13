import { describe, expect, it } from 'vitest';
import { createLatencyWindow, percentiles } from '../../../../src/core/stats/latency-window.js';

describe('percentiles (nearest rank)', () => {
  it('gives exact sample values on known data', () => {
    const oneTo100 = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentiles(oneTo100, [50, 90, 99, 100])).toEqual([50, 90, 99, 100]);
    // Order of the input does not matter, and the input is not sorted in place.
    const shuffled = [7, 1, 9, 3, 5, 2, 10, 4, 8, 6];
    expect(percentiles(shuffled, [50, 90, 99])).toEqual([5, 9, 10]);
    expect(shuffled[0]).toBe(7);
    expect(percentiles([42], [50, 90, 99])).toEqual([42, 42, 42]);
    // Ranks round up: p50 of four samples is the 2nd, p90 the 4th.
    expect(percentiles([400, 100, 300, 200], [50, 90])).toEqual([200, 400]);
    // A numeric sort, not a string one (1000 < 200 as text).
    expect(percentiles([1000, 200, 30], [50])).toEqual([200]);
  });

  it('has none for an empty set', () => {
    expect(percentiles([], [50])).toBeUndefined();
  });
});

describe('createLatencyWindow', () => {
  it('keeps only the samples within the window', () => {
    let now = 0;
    const w = createLatencyWindow({ capacity: 100, windowMs: 60_000, clock: () => now });
    w.record(1000);
    now = 30_000;
    w.record(2000);
    expect([...w.recent()]).toEqual([1000, 2000]);
    now = 60_000; // the first sample is now exactly windowMs old: out
    expect([...w.recent()]).toEqual([2000]);
    now = 90_001;
    expect([...w.recent()]).toEqual([]);
    w.record(3000);
    expect([...w.recent()]).toEqual([3000]);
  });

  it('holds at most `capacity` samples, the newest, whatever the traffic', () => {
    const w = createLatencyWindow({ capacity: 4, windowMs: 60_000, clock: () => 0 });
    for (let i = 1; i <= 1000; i++) w.record(i);
    expect([...w.recent()]).toEqual([997, 998, 999, 1000]);
    expect(percentiles(w.recent(), [50, 99])).toEqual([998, 1000]);
  });

  it('clamps negative durations and refuses a useless shape', () => {
    const w = createLatencyWindow({ capacity: 2, windowMs: 1, clock: () => 0 });
    w.record(-5);
    expect([...w.recent()]).toEqual([0]);
    expect(() => createLatencyWindow({ capacity: 0, windowMs: 1 })).toThrow(RangeError);
    expect(() => createLatencyWindow({ capacity: 1.5, windowMs: 1 })).toThrow(RangeError);
    expect(() => createLatencyWindow({ capacity: 1, windowMs: 0 })).toThrow(RangeError);
  });
});
