import { ofsError } from '../../errors.js';
import type { Session } from '../backend.js';
import type { ModelStats } from '../stats/model-stats.js';
import { batchShapeKey } from './batch.js';
import { Drain, execute, hrClock, type Clock, type Pending } from './execute.js';
import { PriorityQueues, priorityLevel, queueSettings, type QueueSettings } from './queue-policy.js';
import type { InferRequest, InferResult, Scheduler } from './scheduler.js';
import { SessionPool } from './session-pool.js';

/** What the batching decision needs to know about a queued request. */
export interface QueuedItem {
  readonly batchSize: number;
  readonly enqueuedNs: bigint;
  /** Requests batch together only when their keys are equal (see batchShapeKey). */
  readonly shapeKey: string;
}

export interface BatchPolicy {
  readonly maxBatchSize: number;
  readonly preferredBatchSizes: readonly number[];
  readonly maxQueueDelayNs: number;
}

export type BatchDecision = { readonly take: number } | { readonly waitNs: number };

/**
 * After Triton's DynamicBatchScheduler::GetDynamicBatch, as a pure function of the queue and the clock.
 * From the head, gather requests in order while they share the head's shapes and fit in
 * max_batch_size. Then: if that prefix reaches a preferred batch size, take the largest such prefix;
 * if the batch cannot grow (the next request differs or does not fit, or max_batch_size is reached),
 * take it; if the oldest request has waited max_queue_delay, take it; otherwise wait for the rest of
 * the delay.
 */
export function nextBatch(queue: readonly QueuedItem[], policy: BatchPolicy, nowNs: bigint): BatchDecision {
  if (queue.length === 0) return { waitNs: Number.POSITIVE_INFINITY };
  const max = Math.max(1, policy.maxBatchSize);
  const head = queue[0];
  let count = 0;
  let size = 0;
  let full = false;
  let preferredCount = 0;
  for (const item of queue) {
    if (count > 0 && (item.shapeKey !== head.shapeKey || size + item.batchSize > max)) {
      full = true;
      break;
    }
    size += item.batchSize;
    count += 1;
    if (policy.preferredBatchSizes.includes(size)) preferredCount = count;
    if (size >= max) {
      full = true;
      break;
    }
  }
  if (preferredCount > 0) return { take: preferredCount };
  if (full) return { take: count };
  const waited = Number(nowNs - head.enqueuedNs);
  if (waited >= policy.maxQueueDelayNs) return { take: count };
  return { waitNs: policy.maxQueueDelayNs - waited };
}

interface Queued extends QueuedItem {
  readonly pending: Pending;
}

export interface DynamicBatchSchedulerOptions extends BatchPolicy {
  readonly sessions: readonly Session[];
  readonly stats: ModelStats;
  readonly now?: Clock;
  /** max_queue_size, timeouts and priority levels (default: one unbounded level, no timeouts). */
  readonly queue?: QueueSettings;
}

/** The loop around nextBatch(): queue requests, dispatch batches onto free instances, wait when told. */
export class DynamicBatchScheduler implements Scheduler {
  readonly #pool: SessionPool;
  readonly #stats: ModelStats;
  readonly #now: Clock;
  readonly #policy: BatchPolicy;
  readonly #drain = new Drain();
  readonly #settings: QueueSettings;
  readonly #queue: PriorityQueues<Queued>;
  #timer: NodeJS.Timeout | undefined;
  /** Wakes the scheduler at the next queue timeout, even while every instance is busy. */
  #expiryTimer: NodeJS.Timeout | undefined;

  constructor(options: DynamicBatchSchedulerOptions) {
    this.#pool = new SessionPool(options.sessions);
    this.#stats = options.stats;
    this.#now = options.now ?? hrClock;
    this.#policy = {
      maxBatchSize: options.maxBatchSize,
      preferredBatchSizes: options.preferredBatchSizes,
      maxQueueDelayNs: options.maxQueueDelayNs,
    };
    this.#settings = options.queue ?? queueSettings(undefined);
    this.#queue = new PriorityQueues(this.#settings);
  }

  enqueue(request: InferRequest): Promise<InferResult> {
    let queued: Queued | undefined;
    return this.#drain.accept(
      request,
      this.#stats,
      this.#now,
      (pending, enqueuedNs) => {
        queued = { pending, enqueuedNs, batchSize: request.batchSize, shapeKey: batchShapeKey(request.inputs) };
        const level = priorityLevel(this.#settings, request.priority);
        if (this.#queue.enqueue(queued, level, request.timeoutUs, enqueuedNs) === 'full') {
          this.#refuse(pending, ofsError('OFS_QUEUE_FULL'));
          return;
        }
        this.#schedule();
      },
      () => {
        if (!queued || !this.#queue.remove(queued)) return false;
        // The head (and so the batch being gathered and its delay) may have changed.
        this.#schedule();
        return true;
      },
    );
  }

  /** Answers a request that never reached an execution (queue full, timed out), counted as REJECTED. */
  #refuse(pending: Pending, error: Error): void {
    this.#stats.recordFailure(Number(this.#now() - pending.request.receivedNs), 'REJECTED');
    this.#stats.requestFinished();
    pending.reject(error);
  }

  /** Applies the queue timeouts due now and arms the timer for the next one. */
  #expire(): void {
    if (this.#expiryTimer) {
      clearTimeout(this.#expiryTimer);
      this.#expiryTimer = undefined;
    }
    const now = this.#now();
    for (const q of this.#queue.expire(now)) this.#refuse(q.pending, ofsError('OFS_REQUEST_TIMEOUT'));
    const next = this.#queue.nextDeadlineNs();
    if (next !== undefined) {
      this.#expiryTimer = setTimeout(() => {
        this.#expiryTimer = undefined;
        this.#schedule();
      }, Math.max(1, Math.ceil(Number(next - now) / 1e6)));
    }
  }

  #schedule(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#expire();
    while (this.#queue.size > 0 && this.#pool.hasFree()) {
      // Once stopping, nothing new arrives: waiting for more requests would only delay the drain.
      const policy = this.#drain.stopping ? { ...this.#policy, maxQueueDelayNs: 0 } : this.#policy;
      const decision = nextBatch(this.#queue.ordered(), policy, this.#now());
      if ('waitNs' in decision) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#schedule();
        }, Math.max(1, Math.ceil(decision.waitNs / 1e6)));
        return;
      }
      const batch = this.#queue.take(decision.take).map((q) => q.pending);
      const session = this.#pool.tryAcquire() as Session;
      void execute(session, batch, this.#stats, this.#now).then(() => {
        this.#pool.release(session);
        this.#schedule();
      });
    }
  }

  inflight(): number {
    return this.#drain.inflight();
  }

  stop(): Promise<void> {
    const drained = this.#drain.stop();
    this.#schedule();
    return drained;
  }
}
