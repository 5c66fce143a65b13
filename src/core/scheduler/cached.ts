import { ofsError } from '../../errors.js';
import { responseCacheKey, type ResponseCache } from '../cache/response-cache.js';
import type { ModelStats } from '../stats/model-stats.js';
import { hrClock, type Clock } from './execute.js';
import type { InferRequest, InferResult, Scheduler } from './scheduler.js';

export interface CachedSchedulerOptions {
  readonly inner: Scheduler;
  readonly cache: ResponseCache;
  readonly stats: ModelStats;
  /** Identifies this loaded model version in the shared cache (model, version, load). */
  readonly owner: string;
  readonly now?: Clock;
}

/**
 * A model's scheduler with Triton's response cache in front (DynamicBatchScheduler::CacheLookUp): a
 * hit is answered before the queue, so it takes no queue slot and no instance; a miss goes through the
 * model's own scheduler and its successful result is inserted. Failures are never cached.
 */
export class CachedScheduler implements Scheduler {
  readonly #inner: Scheduler;
  readonly #cache: ResponseCache;
  readonly #stats: ModelStats;
  readonly #owner: string;
  readonly #now: Clock;
  #stopping = false;

  constructor(options: CachedSchedulerOptions) {
    this.#inner = options.inner;
    this.#cache = options.cache;
    this.#stats = options.stats;
    this.#owner = options.owner;
    this.#now = options.now ?? hrClock;
  }

  async enqueue(request: InferRequest): Promise<InferResult> {
    if (this.#stopping) {
      // As the scheduler behind would: a stopping model answers nothing, cached or not.
      this.#stats.recordFailure(Number(this.#now() - request.receivedNs), 'REJECTED');
      throw ofsError('OFS_SERVER_SHUTTING_DOWN');
    }
    const start = this.#now();
    const key = responseCacheKey(this.#owner, request);
    const hit = this.#cache.lookup(key);
    const looked = this.#now();
    if (hit) {
      // Queue time is Triton's: from entering the scheduler to the lookup, which is at once.
      this.#stats.recordCacheHit(Number(looked - request.receivedNs), 0, Number(looked - start));
      return { outputs: hit.map((t) => ({ ...t, shape: [...t.shape] })) };
    }
    const result = await this.#inner.enqueue(request);
    const inserting = this.#now();
    // Once stopping, this version is going away: its entries are dropped, so none is added.
    if (!this.#stopping) this.#cache.insert(key, this.#owner, result.outputs);
    this.#stats.recordCacheMiss(Number(looked - start) + Number(this.#now() - inserting));
    return result;
  }

  inflight(): number {
    return this.#inner.inflight();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#inner.stop();
    this.#cache.dropOwner(this.#owner);
  }
}
