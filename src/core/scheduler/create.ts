import type { Session } from '../backend.js';
import type { ModelConfig } from '../config/model-config.js';
import type { ModelStats } from '../stats/model-stats.js';
import { DirectScheduler } from './direct.js';
import { DynamicBatchScheduler } from './dynamic-batcher.js';
import { queueSettings } from './queue-policy.js';
import type { Scheduler } from './scheduler.js';

/**
 * The scheduler a config asks for: the dynamic batcher whenever dynamic_batching is set. As in Triton,
 * that includes a model with max_batch_size 0: it runs one request per execution, but its queue
 * policy (max_queue_size, timeouts, priorities) still applies.
 */
export function createScheduler(config: ModelConfig, sessions: readonly Session[], stats: ModelStats): Scheduler {
  const maxBatchSize = config.max_batch_size ?? 0;
  const db = config.dynamic_batching;
  if (db) {
    return new DynamicBatchScheduler({
      sessions,
      stats,
      maxBatchSize: Math.max(1, maxBatchSize),
      preferredBatchSizes: db.preferred_batch_size ?? [],
      maxQueueDelayNs: Number(db.max_queue_delay_microseconds ?? 0) * 1000,
      queue: queueSettings(db),
    });
  }
  return new DirectScheduler({ sessions, stats });
}
