import { describe, expect, it } from 'vitest';
import { DirectScheduler } from '../../../../src/core/scheduler/direct.js';
import { createModelStats } from '../../../../src/core/stats/stats.js';
import { FakeSession, f32, readF32 } from '../../../fixtures/fake-models.js';
import type { Tensor } from '../../../../src/core/tensor/tensor.js';

const io = [{ name: 'X', dtype: 'FP32' as const, shape: [1] }];
const out = [{ name: 'Y', dtype: 'FP32' as const, shape: [1] }];
const req = (v: number) => ({ inputs: [f32('X', [1], [v])], batchSize: 1, receivedNs: process.hrtime.bigint() });

function gatedSession(log: string[], name: string): { session: FakeSession; release: () => void } {
  let open: () => void = () => {};
  const gate = new Promise<void>((r) => (open = r));
  const session = new FakeSession(io, out, async (inputs: readonly Tensor[]) => {
    log.push(`${name}:${readF32(inputs[0])[0]}`);
    await gate;
    return [f32('Y', [1], readF32(inputs[0]))];
  });
  return { session, release: () => open() };
}

describe('DirectScheduler', () => {
  it('runs one request per free session and queues the rest FIFO', async () => {
    const log: string[] = [];
    const a = gatedSession(log, 'a');
    const stats = createModelStats();
    const s = new DirectScheduler({ sessions: [a.session], stats });
    const p1 = s.enqueue(req(1));
    const p2 = s.enqueue(req(2));
    const p3 = s.enqueue(req(3));
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(['a:1']);
    expect(s.inflight()).toBe(3);
    expect(stats.snapshot().pending).toBe(3);
    a.release();
    const results = await Promise.all([p1, p2, p3]);
    expect(results.map((r) => readF32(r.outputs[0])[0])).toEqual([1, 2, 3]);
    expect(log).toEqual(['a:1', 'a:2', 'a:3']);
    const snap = stats.snapshot();
    expect(snap.execution_count).toBe(3);
    expect(snap.success.count).toBe(3);
    expect(snap.pending).toBe(0);
    expect(snap.queue.count).toBe(3);
  });

  it('uses every instance concurrently', async () => {
    const log: string[] = [];
    const a = gatedSession(log, 'a');
    const b = gatedSession(log, 'b');
    const s = new DirectScheduler({ sessions: [a.session, b.session], stats: createModelStats() });
    const ps = [s.enqueue(req(1)), s.enqueue(req(2))];
    await new Promise((r) => setTimeout(r, 5));
    expect(log.sort()).toEqual(['a:1', 'b:2']);
    a.release();
    b.release();
    await Promise.all(ps);
  });

  it('records backend failures and keeps serving', async () => {
    let fail = true;
    const session = new FakeSession(io, out, (inputs) => {
      if (fail) throw new Error('boom');
      return [f32('Y', [1], readF32(inputs[0]))];
    });
    const stats = createModelStats();
    const s = new DirectScheduler({ sessions: [session], stats });
    await expect(s.enqueue(req(1))).rejects.toThrow('inference failed: boom');
    fail = false;
    await expect(s.enqueue(req(2))).resolves.toBeTruthy();
    const snap = stats.snapshot();
    expect(snap.fail.count).toBe(1);
    expect(snap.failures_by_reason.BACKEND).toBe(1);
    expect(snap.success.count).toBe(1);
  });

  it('stop() waits for in-flight work', async () => {
    const log: string[] = [];
    const a = gatedSession(log, 'a');
    const s = new DirectScheduler({ sessions: [a.session], stats: createModelStats() });
    const p = s.enqueue(req(1));
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(stopped).toBe(false);
    await expect(s.enqueue(req(2))).rejects.toThrow('server is shutting down');
    a.release();
    await stopping;
    expect(stopped).toBe(true);
    await p;
  });

  it('drops a queued request whose client went away, counts it as CANCELED, and runs the rest', async () => {
    const log: string[] = [];
    const a = gatedSession(log, 'a');
    const stats = createModelStats();
    const s = new DirectScheduler({ sessions: [a.session], stats });
    const running = new AbortController();
    const queued = new AbortController();
    const p1 = s.enqueue({ ...req(1), signal: running.signal });
    const p2 = s.enqueue({ ...req(2), signal: queued.signal });
    const p3 = s.enqueue(req(3));
    await new Promise((r) => setTimeout(r, 5));
    queued.abort();
    // Executing already: runs to the end, as in Triton.
    running.abort();
    await expect(p2).rejects.toMatchObject({ code: 'OFS_REQUEST_CANCELLED' });
    expect(s.inflight()).toBe(2);
    a.release();
    expect(readF32((await p1).outputs[0])).toEqual([1]);
    expect(readF32((await p3).outputs[0])).toEqual([3]);
    expect(log).toEqual(['a:1', 'a:3']);
    const snap = stats.snapshot();
    expect(snap.failures_by_reason.CANCELED).toBe(1);
    expect(snap.success.count).toBe(2);
    expect(snap.pending).toBe(0);
    expect(s.inflight()).toBe(0);
  });

  it('refuses a request whose signal has already aborted without queueing it', async () => {
    const stats = createModelStats();
    const log: string[] = [];
    const s = new DirectScheduler({ sessions: [gatedSession(log, 'a').session], stats });
    await expect(s.enqueue({ ...req(1), signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'OFS_REQUEST_CANCELLED' });
    expect(log).toEqual([]);
    expect(s.inflight()).toBe(0);
    expect(stats.snapshot().failures_by_reason.CANCELED).toBe(1);
    expect(stats.snapshot().pending).toBe(0);
  });
});
