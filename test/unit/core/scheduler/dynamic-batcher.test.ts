import { describe, expect, it } from 'vitest';
import { DynamicBatchScheduler, nextBatch, type QueuedItem } from '../../../../src/core/scheduler/dynamic-batcher.js';
import { createModelStats } from '../../../../src/core/stats/stats.js';
import { FakeSession, f32, readF32 } from '../../../fixtures/fake-models.js';
import { queueSettings } from '../../../../src/core/scheduler/queue-policy.js';
import type { Tensor } from '../../../../src/core/tensor/tensor.js';

const item = (enqueuedNs: number, batchSize = 1, shapeKey = 'k'): QueuedItem => ({ batchSize, enqueuedNs: BigInt(enqueuedNs), shapeKey });
const MS = 1_000_000;

describe('nextBatch (fake clock)', () => {
  const policy = { maxBatchSize: 8, preferredBatchSizes: [4], maxQueueDelayNs: 10 * MS };

  it('waits for the rest of the delay while no preferred size can be formed', () => {
    expect(nextBatch([item(0), item(1 * MS)], policy, BigInt(3 * MS))).toEqual({ waitNs: 7 * MS });
  });

  it('takes everything that fits once the oldest request waited the max delay', () => {
    expect(nextBatch([item(0), item(1 * MS)], policy, BigInt(10 * MS))).toEqual({ take: 2 });
  });

  it('forms the largest preferred size without waiting', () => {
    const q = [item(0), item(0), item(0), item(0), item(0), item(0)];
    expect(nextBatch(q, { ...policy, preferredBatchSizes: [2, 4] }, 0n)).toEqual({ take: 4 });
    expect(nextBatch(q.slice(0, 3), { ...policy, preferredBatchSizes: [2, 4] }, 0n)).toEqual({ take: 2 });
  });

  it('counts batch sizes, not requests, towards preferred and max sizes', () => {
    expect(nextBatch([item(0, 2), item(0, 2)], policy, 0n)).toEqual({ take: 2 });
    expect(nextBatch([item(0, 5), item(0, 4)], policy, 0n)).toEqual({ take: 1 });
  });

  it('sends at once when the queue reaches max_batch_size', () => {
    const q = Array.from({ length: 9 }, () => item(0));
    expect(nextBatch(q, { ...policy, preferredBatchSizes: [] }, 0n)).toEqual({ take: 8 });
  });

  it('never batches requests with different non-batch shapes', () => {
    const q = [item(0, 1, 'a'), item(0, 1, 'b'), item(0, 1, 'a')];
    expect(nextBatch(q, policy, 0n)).toEqual({ take: 1 });
  });

  it('takes at once with no delay configured', () => {
    expect(nextBatch([item(5)], { maxBatchSize: 4, preferredBatchSizes: [], maxQueueDelayNs: 0 }, 5n)).toEqual({ take: 1 });
  });
});

describe('DynamicBatchScheduler', () => {
  const io = [{ name: 'X', dtype: 'FP32' as const, shape: [1] }];
  const out = [{ name: 'Y', dtype: 'FP32' as const, shape: [1] }];
  const double = (inputs: readonly Tensor[]): Tensor[] => {
    const x = inputs[0];
    return [f32('Y', x.shape, readF32(x).map((v) => v * 2))];
  };
  const req = (v: number) => ({ inputs: [f32('X', [1, 1], [v])], batchSize: 1, receivedNs: process.hrtime.bigint() });

  it('batches concurrent requests into one execution and splits the results', async () => {
    const session = new FakeSession(io, out, double);
    const stats = createModelStats();
    const s = new DynamicBatchScheduler({ sessions: [session], stats, maxBatchSize: 4, preferredBatchSizes: [3], maxQueueDelayNs: 200 * MS });
    const results = await Promise.all([s.enqueue(req(1)), s.enqueue(req(2)), s.enqueue(req(3))]);
    expect(results.map((r) => readF32(r.outputs[0]))).toEqual([[2], [4], [6]]);
    expect(session.runs).toHaveLength(1);
    expect(session.runs[0].inputs[0].shape).toEqual([3, 1]);
    const snap = stats.snapshot();
    expect(snap.execution_count).toBe(1);
    expect(snap.inference_count).toBe(3);
    expect(snap.success.count).toBe(3);
    expect(snap.batch_stats.map((b) => b.batch_size)).toEqual([3]);
    await s.stop();
  });

  it('dispatches a partial batch after the queue delay', async () => {
    const session = new FakeSession(io, out, double);
    const s = new DynamicBatchScheduler({ sessions: [session], stats: createModelStats(), maxBatchSize: 4, preferredBatchSizes: [4], maxQueueDelayNs: 20 * MS });
    const started = Date.now();
    const r = await s.enqueue(req(5));
    expect(readF32(r.outputs[0])).toEqual([10]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    expect(session.runs).toHaveLength(1);
  });

  it('stop() drains queued requests without waiting the delay, then refuses new ones', async () => {
    const s = new DynamicBatchScheduler({ sessions: [new FakeSession(io, out, double)], stats: createModelStats(), maxBatchSize: 4, preferredBatchSizes: [], maxQueueDelayNs: 10_000 * MS });
    const p = s.enqueue(req(1));
    expect(s.inflight()).toBe(1);
    await s.stop();
    expect(readF32((await p).outputs[0])).toEqual([2]);
    expect(s.inflight()).toBe(0);
    await expect(s.enqueue(req(1))).rejects.toThrow('server is shutting down');
  });
  it('stop() during an execution drains the requests queued behind it before resolving', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const session = new FakeSession(io, out, async (inputs) => {
      await gate;
      return double(inputs);
    });
    const s = new DynamicBatchScheduler({ sessions: [session], stats: createModelStats(), maxBatchSize: 1, preferredBatchSizes: [], maxQueueDelayNs: 10_000 * MS });
    const first = s.enqueue(req(1));
    const queued = [s.enqueue(req(2)), s.enqueue(req(3))];
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(s.inflight()).toBe(0);
    expect(await Promise.all([first, ...queued].map(async (p) => readF32((await p).outputs[0])))).toEqual([[2], [4], [6]]);
    expect(session.runs).toHaveLength(3);
  });

  it('runs requests of different shapes in separate executions, in arrival order', async () => {
    const session = new FakeSession([{ name: 'X', dtype: 'FP32', shape: [-1] }], [{ name: 'Y', dtype: 'FP32', shape: [-1] }], double);
    const s = new DynamicBatchScheduler({ sessions: [session], stats: createModelStats(), maxBatchSize: 8, preferredBatchSizes: [], maxQueueDelayNs: 5 * MS });
    const wide = (v: number) => ({ inputs: [f32('X', [1, 2], [v, v])], batchSize: 1, receivedNs: process.hrtime.bigint() });
    const results = await Promise.all([s.enqueue(req(1)), s.enqueue(wide(2)), s.enqueue(req(3))]);
    expect(results.map((r) => readF32(r.outputs[0]))).toEqual([[2], [4, 4], [6]]);
    expect(session.runs.map((r) => r.inputs[0].shape)).toEqual([[1, 1], [1, 2], [1, 1]]);
    await s.stop();
  });

  it('takes a cancelled request out of the batch being gathered; the others still batch', async () => {
    const session = new FakeSession(io, out, double);
    const stats = createModelStats();
    const s = new DynamicBatchScheduler({ sessions: [session], stats, maxBatchSize: 4, preferredBatchSizes: [], maxQueueDelayNs: 50 * MS });
    const gone = new AbortController();
    const p1 = s.enqueue(req(1));
    const p2 = s.enqueue({ ...req(2), signal: gone.signal });
    const p3 = s.enqueue(req(3));
    gone.abort();
    await expect(p2).rejects.toMatchObject({ code: 'OFS_REQUEST_CANCELLED' });
    const results = await Promise.all([p1, p3]);
    expect(results.map((r) => readF32(r.outputs[0]))).toEqual([[2], [6]]);
    expect(session.runs).toHaveLength(1);
    expect(session.runs[0].inputs[0].shape).toEqual([2, 1]);
    const snap = stats.snapshot();
    expect(snap.failures_by_reason.CANCELED).toBe(1);
    expect(snap.inference_count).toBe(2);
    expect(snap.pending).toBe(0);
    await s.stop();
  });

  it('does not cancel a request once its batch is executing', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const session = new FakeSession(io, out, async (inputs) => {
      await gate;
      return double(inputs);
    });
    const stats = createModelStats();
    const s = new DynamicBatchScheduler({ sessions: [session], stats, maxBatchSize: 1, preferredBatchSizes: [], maxQueueDelayNs: 0 });
    const gone = new AbortController();
    const p = s.enqueue({ ...req(4), signal: gone.signal });
    await new Promise((r) => setTimeout(r, 5));
    gone.abort();
    release();
    expect(readF32((await p).outputs[0])).toEqual([8]);
    expect(stats.snapshot().failures_by_reason.CANCELED).toBe(0);
    await s.stop();
  });
});

describe('DynamicBatchScheduler queue policy', () => {
  const io = [{ name: 'X', dtype: 'FP32' as const, shape: [1] }];
  const out = [{ name: 'Y', dtype: 'FP32' as const, shape: [1] }];
  const req = (v: number, extra: { priority?: number; timeoutUs?: number } = {}) => ({
    inputs: [f32('X', [1, 1], [v])],
    batchSize: 1,
    receivedNs: process.hrtime.bigint(),
    ...extra,
  });
  /** One instance held busy until release(): everything else waits in the queue. */
  const gated = () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const session = new FakeSession(io, out, async (inputs) => {
      await gate;
      return [f32('Y', inputs[0].shape, readF32(inputs[0]))];
    });
    return { session, release };
  };
  const batcher = (session: FakeSession, db: Parameters<typeof queueSettings>[0], stats = createModelStats()) =>
    new DynamicBatchScheduler({ sessions: [session], stats, maxBatchSize: 1, preferredBatchSizes: [], maxQueueDelayNs: 0, queue: queueSettings(db) });

  it('answers requests past max_queue_size at once with Triton\'s status, counted as REJECTED', async () => {
    const { session, release } = gated();
    const stats = createModelStats();
    const s = batcher(session, { default_queue_policy: { max_queue_size: 2 } }, stats);
    const running = s.enqueue(req(1));
    const queued = [s.enqueue(req(2)), s.enqueue(req(3))];
    const refused = s.enqueue(req(4));
    await expect(refused).rejects.toMatchObject({ code: 'OFS_QUEUE_FULL', kind: 'UNAVAILABLE', message: 'Exceeds maximum queue size' });
    expect(s.inflight()).toBe(3);
    release();
    expect((await Promise.all([running, ...queued])).map((r) => readF32(r.outputs[0]))).toEqual([[1], [2], [3]]);
    const snap = stats.snapshot();
    expect(snap.success.count).toBe(3);
    expect(snap.fail.count).toBe(1);
    expect(snap.failures_by_reason.REJECTED).toBe(1);
    expect(snap.pending).toBe(0);
    await s.stop();
  });

  it('rejects a request whose queue timeout passes while every instance is busy', async () => {
    const { session, release } = gated();
    const stats = createModelStats();
    const s = batcher(session, { default_queue_policy: { default_timeout_microseconds: 20_000 } }, stats);
    const running = s.enqueue(req(1));
    const waiting = s.enqueue(req(2));
    await expect(waiting).rejects.toMatchObject({ code: 'OFS_REQUEST_TIMEOUT', message: 'Request timeout expired' });
    release();
    expect(readF32((await running).outputs[0])).toEqual([1]);
    expect(stats.snapshot().failures_by_reason.REJECTED).toBe(1);
    expect(session.runs).toHaveLength(1);
    await s.stop();
  });

  it("honours a request's shorter timeout only with allow_timeout_override", async () => {
    for (const allow of [true, false]) {
      const { session, release } = gated();
      const s = batcher(session, { default_queue_policy: { default_timeout_microseconds: 60_000_000, allow_timeout_override: allow } });
      const running = s.enqueue(req(1));
      const waiting = s.enqueue(req(2, { timeoutUs: 10_000 }));
      const outcome = waiting.then(() => 'answered', (e: { code?: string }) => e.code);
      await new Promise((r) => setTimeout(r, 60));
      release();
      expect(await outcome).toBe(allow ? 'OFS_REQUEST_TIMEOUT' : 'answered');
      await running;
      await s.stop();
    }
  });

  it('serves a timed-out request later under DELAY instead of rejecting it', async () => {
    const { session, release } = gated();
    // The level allows 200 ms, request 2 asks for 1 ms (an override may only shorten a timeout): only
    // request 2 is late, however slow the machine is between release() and the next dispatch.
    const s = batcher(session, { default_queue_policy: { default_timeout_microseconds: 200_000, timeout_action: 'DELAY', allow_timeout_override: true } });
    const running = s.enqueue(req(1));
    const delayed = s.enqueue(req(2, { timeoutUs: 1_000 }));
    await new Promise((r) => setTimeout(r, 20));
    const onTime = s.enqueue(req(3));
    release();
    await Promise.all([running, delayed, onTime]);
    // The on-time request overtakes the one whose timeout passed.
    expect(session.runs.map((r) => readF32(r.inputs[0]))).toEqual([[1], [3], [2]]);
    await s.stop();
  });

  it('executes higher priority levels first; priority 0 or out of range takes the default level', async () => {
    const { session, release } = gated();
    const s = batcher(session, { priority_levels: 3, default_priority_level: 2 });
    const all = [
      s.enqueue(req(1)), // taken at once
      s.enqueue(req(2, { priority: 3 })),
      s.enqueue(req(3)), // default level 2
      s.enqueue(req(4, { priority: 1 })),
      s.enqueue(req(5, { priority: 9 })), // out of range: level 2
    ];
    release();
    await Promise.all(all);
    expect(session.runs.map((r) => readF32(r.inputs[0])[0])).toEqual([1, 4, 3, 5, 2]);
    await s.stop();
  });

  it('preserve_ordering: a batch that finishes early on one instance waits for the earlier one', async () => {
    for (const preserveOrdering of [false, true]) {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const compute = async (inputs: readonly Tensor[]) => {
        if (readF32(inputs[0])[0] === 1) await gate; // the first request's execution is held
        return [f32('Y', inputs[0].shape, readF32(inputs[0]))];
      };
      const s = new DynamicBatchScheduler({
        sessions: [new FakeSession(io, out, compute), new FakeSession(io, out, compute)],
        stats: createModelStats(),
        maxBatchSize: 1,
        preferredBatchSizes: [],
        maxQueueDelayNs: 0,
        preserveOrdering,
      });
      const answered: number[] = [];
      const all = [1, 2].map((v) => s.enqueue(req(v)).then(() => answered.push(v)));
      await new Promise((r) => setTimeout(r, 20));
      expect(answered).toEqual(preserveOrdering ? [] : [2]);
      release();
      await Promise.all(all);
      expect(answered).toEqual(preserveOrdering ? [1, 2] : [2, 1]);
      await s.stop();
    }
  });

  it('takes timeouts and delays longer than a timer can hold without firing early', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const { session, release } = gated();
      const s = new DynamicBatchScheduler({
        sessions: [session], stats: createModelStats(), maxBatchSize: 2, preferredBatchSizes: [], maxQueueDelayNs: 1e16,
        queue: queueSettings({ default_queue_policy: { default_timeout_microseconds: 1e13 } }),
      });
      const first = s.enqueue(req(1)); // waits out the (endless) delay for a second request
      const second = s.enqueue(req(2));
      await new Promise((r) => setTimeout(r, 30));
      expect(session.runs.map((r) => r.inputs[0].shape)).toEqual([[2, 1]]);
      release();
      await Promise.all([first, second]);
      const third = s.enqueue(req(3));
      let settled = false;
      void third.finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 30));
      expect(settled).toBe(false);
      await s.stop(); // the stop drains it without the delay
      await third;
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
