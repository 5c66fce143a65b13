import type { Session } from '../backend.js';
import type { ModelStats } from '../stats/model-stats.js';
import { Drain, execute, hrClock, type Clock, type Pending } from './execute.js';
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
  /** Requests waiting for a free instance, oldest first; a cancelled one is spliced out. */
  readonly #queue: Pending[] = [];

  constructor(options: DirectSchedulerOptions) {
    this.#pool = new SessionPool(options.sessions);
    this.#stats = options.stats;
    this.#now = options.now ?? hrClock;
  }

  enqueue(request: InferRequest): Promise<InferResult> {
    return this.#drain.accept(
      request,
      this.#stats,
      this.#now,
      (pending) => {
        this.#queue.push(pending);
        this.#dispatch();
      },
      (pending) => {
        const at = this.#queue.indexOf(pending);
        if (at < 0) return false;
        this.#queue.splice(at, 1);
        return true;
      },
    );
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && this.#pool.hasFree()) {
      const pending = this.#queue.shift() as Pending;
      const session = this.#pool.tryAcquire() as Session;
      void execute(session, [pending], this.#stats, this.#now).then(() => {
        this.#pool.release(session);
        this.#dispatch();
      });
    }
  }

  inflight(): number {
    return this.#drain.inflight();
  }

  stop(): Promise<void> {
    return this.#drain.stop();
  }
}
