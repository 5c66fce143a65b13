import type { Session } from '../backend.js';
import type { ModelConfig } from '../config/model-config.js';
import type { ModelStats } from '../stats/model-stats.js';
import { DirectScheduler } from './direct.js';
import { DynamicBatchScheduler } from './dynamic-batcher.js';
import type { Scheduler } from './scheduler.js';

/** The scheduler a config asks for: the dynamic batcher when dynamic_batching is set on a batching model. */
export function createScheduler(config: ModelConfig, sessions: readonly Session[], stats: ModelStats): Scheduler {
  const maxBatchSize = config.max_batch_size ?? 0;
  const db = config.dynamic_batching;
  if (db && maxBatchSize > 0) {
    return new DynamicBatchScheduler({
      sessions,
      stats,
      maxBatchSize,
      preferredBatchSizes: db.preferred_batch_size ?? [],
      maxQueueDelayNs: (db.max_queue_delay_microseconds ?? 0) * 1000,
    });
  }
  return new DirectScheduler({ sessions, stats });
}
