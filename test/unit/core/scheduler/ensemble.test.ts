import { describe, expect, it } from 'vitest';
import { isOfsError } from '../../../../src/errors.js';
import { FakeCatalog, f32, readF32 } from '../../../fixtures/fake-models.js';
import { ensembleModel, mapModel } from '../../../fixtures/ensembles.js';

const IO = `max_batch_size: 8
input [ { name: "IN" data_type: TYPE_FP32 dims: [ 4 ] } ]`;
const step = (model: string, from: string, to: string) =>
  `{ model_name: "${model}" model_version: -1 input_map { key: "INPUT" value: "${from}" } output_map { key: "OUTPUT" value: "${to}" } }`;

const request = (values: number[], outputs?: string[]) => ({
  inputs: [f32('IN', [1, 4], values)],
  outputs,
  batchSize: 1,
  receivedNs: process.hrtime.bigint(),
});

describe('EnsembleScheduler', () => {
  it('runs a chain of steps, each through its model, and renames tensors by the maps', async () => {
    const double = mapModel('double', (x) => 2 * x);
    const plus = mapModel('plus', (x) => x + 1);
    const catalog = new FakeCatalog().add(double, plus);
    const pipe = ensembleModel(
      `name: "pipe" platform: "ensemble" ${IO}
       output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 4 ] } ]
       ensemble_scheduling { step [ ${step('double', 'IN', 'twice')}, ${step('plus', 'twice', 'OUT')} ] }`,
      catalog,
    );
    const result = await pipe.scheduler.enqueue(request([1, 2, 3, 4]));
    expect(result.outputs.map((t) => t.name)).toEqual(['OUT']);
    expect(readF32(result.outputs[0])).toEqual([3, 5, 7, 9]);
    expect(double.sessions[0].runs).toHaveLength(1);
    // Statistics: the ensemble counts the request; each composing model counts its step.
    const s = pipe.stats.snapshot();
    expect(s.success.count).toBe(1);
    expect(s.inference_count).toBe(1);
    expect(double.stats.snapshot().success.count).toBe(1);
    expect(plus.stats.snapshot().success.count).toBe(1);
    // The ensemble's compute is the sum of its steps' (Triton reports it so).
    expect(s.compute_infer.ns).toBeGreaterThanOrEqual(double.stats.snapshot().compute_infer.ns);
  });

  it('starts steps that do not depend on each other together', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = 0;
    const before = async () => {
      started += 1;
      await gate;
    };
    const a = mapModel('a', (x) => x + 10, { before });
    const b = mapModel('b', (x) => x + 20, { before });
    const pipe = ensembleModel(
      `name: "fan" platform: "ensemble" ${IO}
       output [ { name: "A" data_type: TYPE_FP32 dims: [ 4 ] }, { name: "B" data_type: TYPE_FP32 dims: [ 4 ] } ]
       ensemble_scheduling { step [ ${step('a', 'IN', 'A')}, ${step('b', 'IN', 'B')} ] }`,
      new FakeCatalog().add(a, b),
    );
    const pending = pipe.scheduler.enqueue(request([0, 0, 0, 0]));
    await new Promise((r) => setTimeout(r, 50));
    // Both steps are inside their models at once: neither waited for the other.
    expect(started).toBe(2);
    release();
    const result = await pending;
    expect(result.outputs.map((t) => [t.name, readF32(t)[0]])).toEqual([
      ['A', 10],
      ['B', 20],
    ]);
  });

  it('runs only the steps the requested outputs need', async () => {
    const a = mapModel('a', (x) => x);
    const b = mapModel('b', (x) => x);
    const pipe = ensembleModel(
      `name: "fan" platform: "ensemble" ${IO}
       output [ { name: "A" data_type: TYPE_FP32 dims: [ 4 ] }, { name: "B" data_type: TYPE_FP32 dims: [ 4 ] } ]
       ensemble_scheduling { step [ ${step('a', 'IN', 'A')}, ${step('b', 'IN', 'B')} ] }`,
      new FakeCatalog().add(a, b),
    );
    const result = await pipe.scheduler.enqueue(request([1, 1, 1, 1], ['B']));
    expect(result.outputs.map((t) => t.name)).toEqual(['B']);
    expect(a.sessions[0].runs).toHaveLength(0);
  });

  it('answers a failed request only after the steps still running have settled, as Triton does', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = mapModel('slow', (x) => x, { before: () => gate });
    const boom = mapModel('boom', () => {
      throw new Error('kernel exploded');
    });
    const pipe = ensembleModel(
      `name: "fan" platform: "ensemble" ${IO}
       output [ { name: "A" data_type: TYPE_FP32 dims: [ 4 ] }, { name: "B" data_type: TYPE_FP32 dims: [ 4 ] } ]
       ensemble_scheduling { step [ ${step('slow', 'IN', 'A')}, ${step('boom', 'IN', 'B')} ] }`,
      new FakeCatalog().add(slow, boom),
    );
    let settled = false;
    const answer = pipe.scheduler.enqueue(request([1, 2, 3, 4])).catch((e: unknown) => e).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    // 'boom' has failed, but 'slow' still holds the request's input: no answer yet.
    expect(settled).toBe(false);
    release();
    const error = await answer;
    expect((error as Error).message).toContain("step 1 (model 'boom')");
    expect(slow.stats.snapshot().success.count).toBe(1);
  });

  it('fails the request with the failing step named, keeping the step error status', async () => {
    const ok = mapModel('ok', (x) => x);
    const boom = mapModel('boom', () => {
      throw new Error('kernel exploded');
    });
    const pipe = ensembleModel(
      `name: "pipe" platform: "ensemble" ${IO}
       output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 4 ] } ]
       ensemble_scheduling { step [ ${step('ok', 'IN', 't')}, ${step('boom', 't', 'OUT')} ] }`,
      new FakeCatalog().add(ok, boom),
    );
    const error = await pipe.scheduler.enqueue(request([1, 2, 3, 4])).catch((e: unknown) => e);
    expect(isOfsError(error) && error.code).toBe('OFS_BACKEND_FAILED');
    expect((error as Error).message).toBe("in ensemble 'pipe', step 1 (model 'boom'): inference failed: kernel exploded");
    expect(pipe.stats.snapshot().fail.count).toBe(1);
    expect(pipe.scheduler.inflight()).toBe(0);

    // A composing model that is gone (unloaded) fails the step the same way, as NOT_FOUND.
    const gone = ensembleModel(
      `name: "gone" platform: "ensemble" ${IO}
       output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 4 ] } ]
       ensemble_scheduling { step [ ${step('missing', 'IN', 'OUT')} ] }`,
      new FakeCatalog(),
    );
    const e2 = await gone.scheduler.enqueue(request([1, 2, 3, 4])).catch((e: unknown) => e);
    expect(isOfsError(e2) && e2.kind).toBe('NOT_FOUND');
    expect((e2 as Error).message).toContain("step 0 (model 'missing')");
  });

  it("sends each step through the composing model's dynamic batcher, batched with direct requests", async () => {
    // A long delay and a preferred size of 2: the batch only goes out early when both requests share it.
    const shared = mapModel('shared', (x) => x * 3, { dynamicBatching: { preferred_batch_size: [2], max_queue_delay_microseconds: 30_000_000 } });
    const pipe = ensembleModel(
      `name: "pipe" platform: "ensemble" ${IO}
       output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 4 ] } ]
       ensemble_scheduling { step [ ${step('shared', 'IN', 'OUT')} ] }`,
      new FakeCatalog().add(shared),
    );
    const viaEnsemble = pipe.scheduler.enqueue(request([1, 1, 1, 1]));
    const direct = shared.scheduler.enqueue({ inputs: [f32('INPUT', [1, 4], [2, 2, 2, 2])], batchSize: 1, receivedNs: process.hrtime.bigint() });
    const [e, d] = await Promise.all([viaEnsemble, direct]);
    expect(readF32(e.outputs[0])).toEqual([3, 3, 3, 3]);
    expect(readF32(d.outputs[0])).toEqual([6, 6, 6, 6]);
    expect(shared.sessions[0].runs).toHaveLength(1);
    expect(shared.sessions[0].runs[0].inputs[0].shape).toEqual([2, 4]);
  });

  it('refuses a step input whose shape the composing model does not take', async () => {
    const wide = mapModel('wide', (x) => x, { width: 8 });
    const pipe = ensembleModel(
      `name: "pipe" platform: "ensemble" ${IO}
       output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 8 ] } ]
       ensemble_scheduling { step [ ${step('wide', 'IN', 'OUT')} ] }`,
      new FakeCatalog().add(wide),
    );
    const error = await pipe.scheduler.enqueue(request([1, 2, 3, 4])).catch((e: unknown) => e);
    expect(isOfsError(error) && error.kind).toBe('INVALID_ARG');
    expect((error as Error).message).toBe("in ensemble 'pipe', step 0 (model 'wide'): unexpected shape for input 'INPUT' for model 'wide'. Expected [-1,8], got [1,4]");
  });

  it('a client that leaves while a step is queued cancels the step; both count it as CANCELED', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const busy = mapModel('busy', (x) => x, { before: () => gate });
    const pipe = ensembleModel(
      `name: "pipe" platform: "ensemble" ${IO}
       output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 4 ] } ]
       ensemble_scheduling { step [ ${step('busy', 'IN', 'OUT')} ] }`,
      new FakeCatalog().add(busy),
    );
    // The only instance is held by a direct request, so the ensemble's step waits in busy's queue.
    const direct = busy.scheduler.enqueue({ inputs: [f32('INPUT', [1, 4], [1, 1, 1, 1])], batchSize: 1, receivedNs: process.hrtime.bigint() });
    const client = new AbortController();
    const viaEnsemble = pipe.scheduler.enqueue({ ...request([1, 2, 3, 4]), signal: client.signal });
    await new Promise((r) => setTimeout(r, 20));
    client.abort();
    const error = await viaEnsemble.catch((e: unknown) => e);
    expect(isOfsError(error) && error.code).toBe('OFS_REQUEST_CANCELLED');
    expect((error as Error).message).toContain("step 0 (model 'busy')");
    release();
    await direct;
    expect(busy.sessions[0].runs).toHaveLength(1);
    expect(pipe.stats.snapshot().failures_by_reason.CANCELED).toBe(1);
    expect(busy.stats.snapshot().failures_by_reason.CANCELED).toBe(1);
  });

  it('stop() waits for accepted requests and refuses new ones', async () => {
    const slow = mapModel('slow', (x) => x, { before: () => new Promise((r) => setTimeout(r, 30)) });
    const pipe = ensembleModel(
      `name: "pipe" platform: "ensemble" ${IO}
       output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 4 ] } ]
       ensemble_scheduling { step [ ${step('slow', 'IN', 'OUT')} ] }`,
      new FakeCatalog().add(slow),
    );
    const pending = pipe.scheduler.enqueue(request([1, 2, 3, 4]));
    await pipe.scheduler.stop();
    await expect(pending).resolves.toBeDefined();
    await expect(pipe.scheduler.enqueue(request([1, 2, 3, 4]))).rejects.toThrow('server is shutting down');
  });
});
