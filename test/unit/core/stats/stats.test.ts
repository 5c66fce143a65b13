import { describe, expect, it } from 'vitest';
import { createModelStats } from '../../../../src/core/stats/stats.js';

describe('createModelStats', () => {
  it('counts requests, executions and batch stats as Triton does', () => {
    let clock = 1000;
    const s = createModelStats(() => clock);
    s.requestStarted();
    s.requestStarted();
    expect(s.snapshot().pending).toBe(2);
    // One execution of a batch of 3 items from two requests (batch sizes 1 and 2).
    s.recordExecution(3, 10, 100, 5);
    const compute = { inputNs: 10, inferNs: 100, outputNs: 5 };
    s.recordSuccess(500, 40, compute);
    clock = 2000;
    s.recordSuccess(600, 60, compute);
    s.requestFinished();
    s.requestFinished();
    s.recordFailure(70, 'BACKEND');

    const snap = s.snapshot();
    expect(snap.pending).toBe(0);
    expect(snap.execution_count).toBe(1);
    expect(snap.inference_count).toBe(3);
    expect(snap.success).toEqual({ count: 2, ns: 1100 });
    expect(snap.queue).toEqual({ count: 2, ns: 100 });
    // Each request of the batch counts the whole execution's durations.
    expect(snap.compute_infer).toEqual({ count: 2, ns: 200 });
    expect(snap.compute_input).toEqual({ count: 2, ns: 20 });
    expect(snap.compute_output).toEqual({ count: 2, ns: 10 });
    expect(snap.fail).toEqual({ count: 1, ns: 70 });
    expect(snap.failures_by_reason).toEqual({ REJECTED: 0, CANCELED: 0, BACKEND: 1, OTHER: 0 });
    expect(snap.batch_stats).toEqual([
      { batch_size: 3, compute_input: { count: 1, ns: 10 }, compute_infer: { count: 1, ns: 100 }, compute_output: { count: 1, ns: 5 } },
    ]);
    expect(snap.last_inference).toBe(2000);
  });

  it('returns snapshots that later records do not change', () => {
    const s = createModelStats();
    const before = s.snapshot();
    s.recordExecution(1, 1, 1, 1);
    expect(before.execution_count).toBe(0);
    expect(before.batch_stats).toEqual([]);
    expect(before.last_inference).toBe(0);
  });
});
