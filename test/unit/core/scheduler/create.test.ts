import { describe, expect, it } from 'vitest';
import { createScheduler } from '../../../../src/core/scheduler/create.js';
import { DirectScheduler } from '../../../../src/core/scheduler/direct.js';
import { DynamicBatchScheduler } from '../../../../src/core/scheduler/dynamic-batcher.js';
import { createModelStats } from '../../../../src/core/stats/stats.js';
import { FakeSession } from '../../../fixtures/fake-models.js';

const sessions = [new FakeSession([], [], (inputs) => [...inputs])];

describe('createScheduler', () => {
  it('uses the dynamic batcher only for a batching model that asks for it', () => {
    expect(createScheduler({ max_batch_size: 8, dynamic_batching: {} }, sessions, createModelStats())).toBeInstanceOf(DynamicBatchScheduler);
    expect(createScheduler({ max_batch_size: 8 }, sessions, createModelStats())).toBeInstanceOf(DirectScheduler);
    // Triton ignores dynamic_batching on a model that cannot batch; so do we.
    expect(createScheduler({ max_batch_size: 0, dynamic_batching: {} }, sessions, createModelStats())).toBeInstanceOf(DirectScheduler);
  });
});
