import { describe, expect, it } from 'vitest';
import { createScheduler } from '../../../../src/core/scheduler/create.js';
import { DirectScheduler } from '../../../../src/core/scheduler/direct.js';
import { DynamicBatchScheduler } from '../../../../src/core/scheduler/dynamic-batcher.js';
import { createModelStats } from '../../../../src/core/stats/stats.js';
import { FakeSession } from '../../../fixtures/fake-models.js';

const sessions = [new FakeSession([], [], (inputs) => [...inputs])];

describe('createScheduler', () => {
  it('uses the dynamic batcher whenever the config asks for it', () => {
    expect(createScheduler({ max_batch_size: 8, dynamic_batching: {} }, sessions, createModelStats())).toBeInstanceOf(DynamicBatchScheduler);
    expect(createScheduler({ max_batch_size: 8 }, sessions, createModelStats())).toBeInstanceOf(DirectScheduler);
    // Triton runs the dynamic batcher (batches of one) on a model that cannot batch, so that its queue
    // policy still applies; so do we.
    expect(createScheduler({ max_batch_size: 0, dynamic_batching: {} }, sessions, createModelStats())).toBeInstanceOf(DynamicBatchScheduler);
    expect(createScheduler({ max_batch_size: 0 }, sessions, createModelStats())).toBeInstanceOf(DirectScheduler);
  });

  it('runs a non-batching model one request per execution under dynamic_batching, with its queue limit', async () => {
    const session = new FakeSession([], [], (inputs) => [...inputs]);
    const s = createScheduler(
      { max_batch_size: 0, dynamic_batching: { max_queue_delay_microseconds: 1000, default_queue_policy: { max_queue_size: 1 } } },
      [session],
      createModelStats(),
    );
    const x = { name: 'X', datatype: 'FP32' as const, shape: [2], data: new Uint8Array(8) };
    const req = () => ({ inputs: [x], batchSize: 1, receivedNs: process.hrtime.bigint() });
    const first = s.enqueue(req()); // taken by the free instance
    const second = s.enqueue(req()); // waits in the queue
    const third = s.enqueue(req()); // queue full
    await expect(third).rejects.toMatchObject({ code: 'OFS_QUEUE_FULL', message: 'Exceeds maximum queue size' });
    const done = await Promise.all([first, second]);
    expect(done.map((r) => r.outputs[0].shape)).toEqual([[2], [2]]);
    expect(session.runs.map((r) => r.inputs[0].shape)).toEqual([[2], [2]]);
    await s.stop();
  });
});
