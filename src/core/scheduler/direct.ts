import type { Session } from '../backend.js';
import type { ModelStats } from '../stats/model-stats.js';
import { Drain, execute, hrClock, type Clock } from './execute.js';
import type { InferRequest, InferResult, Scheduler } from './scheduler.js';
import { SessionPool } from './session-pool.js';

export interface DirectSchedulerOptions {
  /** One session per model instance (instance_group count). */
  readonly sessions: readonly Session[];
  readonly stats: ModelStats;
  readonly now?: Clock;
}

/** Triton's default scheduler: each request runs alone on the next free instance, FIFO when all are busy. */
export class DirectScheduler implements Scheduler {
  readonly #pool: SessionPool;
  readonly #stats: ModelStats;
  readonly #now: Clock;
  readonly #drain = new Drain();

  constructor(options: DirectSchedulerOptions) {
    this.#pool = new SessionPool(options.sessions);
    this.#stats = options.stats;
    this.#now = options.now ?? hrClock;
  }

  enqueue(request: InferRequest): Promise<InferResult> {
    return this.#drain.accept(request, this.#stats, this.#now, (pending) => {
      void this.#pool.acquire().then(async (session) => {
        await execute(session, [pending], this.#stats, this.#now);
        this.#pool.release(session);
      });
    });
  }

  inflight(): number {
    return this.#drain.inflight();
  }

  stop(): Promise<void> {
    return this.#drain.stop();
  }
}
