import { describe, expect, it } from 'vitest';
import { ResponseCache } from '../../../../src/core/cache/response-cache.js';
import { CachedScheduler } from '../../../../src/core/scheduler/cached.js';
import { DirectScheduler } from '../../../../src/core/scheduler/direct.js';
import { createModelStats } from '../../../../src/core/stats/stats.js';
import { FakeSession, f32, readF32 } from '../../../fixtures/fake-models.js';

const io = [{ name: 'X', dtype: 'FP32' as const, shape: [1] }];
const req = (v: number) => ({ inputs: [f32('X', [1], [v])], batchSize: 1, receivedNs: process.hrtime.bigint() });

function setup(compute: (v: number) => number) {
  const session = new FakeSession(io, io, (inputs) => [f32('X', [1], readF32(inputs[0]).map(compute))]);
  const stats = createModelStats();
  const cache = new ResponseCache(1 << 16);
  const s = new CachedScheduler({ inner: new DirectScheduler({ sessions: [session], stats }), cache, stats, owner: 'm\u00001\u00001' });
  return { session, stats, cache, s };
}

describe('CachedScheduler', () => {
  it('answers a repeated request from the cache, counting it as Triton does', async () => {
    const { session, stats, s } = setup((v) => v * 10);
    expect(readF32((await s.enqueue(req(2))).outputs[0])).toEqual([20]);
    expect(readF32((await s.enqueue(req(2))).outputs[0])).toEqual([20]);
    expect(session.runs).toHaveLength(1);
    const snap = stats.snapshot();
    expect(snap.cache_miss.count).toBe(1);
    expect(snap.cache_hit.count).toBe(1);
    expect(snap.success.count).toBe(2);
    expect(snap.queue.count).toBe(2);
    // A hit runs nothing: no inference, no execution, no compute time.
    expect(snap.inference_count).toBe(1);
    expect(snap.execution_count).toBe(1);
    expect(snap.compute_infer.count).toBe(1);
  });

  it('never caches a failure', async () => {
    let fail = true;
    const { session, s } = setup((v) => {
      if (fail) throw new Error('boom');
      return v;
    });
    await expect(s.enqueue(req(1))).rejects.toThrow('boom');
    fail = false;
    expect(readF32((await s.enqueue(req(1))).outputs[0])).toEqual([1]);
    expect(session.runs).toHaveLength(2);
  });

  it('refuses new requests once stopping, cached or not, and drops its entries', async () => {
    const { stats, cache, s } = setup((v) => v);
    await s.enqueue(req(1));
    expect(cache.stats().entries).toBe(1);
    await s.stop();
    await expect(s.enqueue(req(1))).rejects.toMatchObject({ code: 'OFS_SERVER_SHUTTING_DOWN' });
    expect(cache.stats().entries).toBe(0);
    expect(stats.snapshot().failures_by_reason.REJECTED).toBe(1);
  });
});
