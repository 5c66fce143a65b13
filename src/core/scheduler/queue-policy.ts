import type { ModelDynamicBatching, ModelQueuePolicy } from '../config/model-config.js';

/**
 * The dynamic batcher's queue policy, after Triton's PriorityQueue / PolicyQueue (scheduler_utils):
 * one FIFO per priority level (1 = highest; 0 when priority_levels is 0), each with its own
 * max_queue_size and timeout. No timers and no I/O: the clock is an argument, so the batcher decides
 * when to look again.
 */

export type TimeoutAction = 'REJECT' | 'DELAY';

export interface QueuePolicy {
  readonly timeoutAction: TimeoutAction;
  /** 0 = no timeout. */
  readonly defaultTimeoutUs: number;
  readonly allowTimeoutOverride: boolean;
  /** 0 = unbounded. */
  readonly maxQueueSize: number;
}

export interface QueueSettings {
  /** 0 = priorities off: every request goes to level 0. */
  readonly priorityLevels: number;
  readonly defaultPriorityLevel: number;
  readonly defaultPolicy: QueuePolicy;
  /** priority_queue_policy: levels with their own policy; the others use defaultPolicy. */
  readonly levelPolicies: ReadonlyMap<number, QueuePolicy>;
}

function policyOf(p: ModelQueuePolicy | undefined): QueuePolicy {
  return {
    timeoutAction: p?.timeout_action === 'DELAY' ? 'DELAY' : 'REJECT',
    defaultTimeoutUs: Math.max(0, Number(p?.default_timeout_microseconds ?? 0)),
    allowTimeoutOverride: p?.allow_timeout_override === true,
    maxQueueSize: Math.max(0, Number(p?.max_queue_size ?? 0)),
  };
}

/** The settings a dynamic_batching block asks for (missing fields take proto3's zero defaults). */
export function queueSettings(db: ModelDynamicBatching | undefined): QueueSettings {
  const priorityLevels = Math.max(0, Number(db?.priority_levels ?? 0));
  const levelPolicies = new Map<number, QueuePolicy>();
  for (const [level, p] of Object.entries(db?.priority_queue_policy ?? {})) levelPolicies.set(Number(level), policyOf(p));
  return {
    priorityLevels,
    defaultPriorityLevel: priorityLevels === 0 ? 0 : Number(db?.default_priority_level ?? 0),
    defaultPolicy: policyOf(db?.default_queue_policy),
    levelPolicies,
  };
}

/** Triton's InferenceRequest::SetPriority: 0 or a level past priority_levels means the default level. */
export function priorityLevel(settings: QueueSettings, requested: number | undefined): number {
  const p = requested ?? 0;
  return p === 0 || p > settings.priorityLevels ? settings.defaultPriorityLevel : p;
}

export function policyFor(settings: QueueSettings, level: number): QueuePolicy {
  return settings.levelPolicies.get(level) ?? settings.defaultPolicy;
}

/**
 * The timeout a request gets (0 = none): the level's default, or the request's own `timeout` when the
 * policy allows overrides and it is shorter. As in Triton, an override can only shorten a timeout, so
 * with no default timeout there is nothing to override.
 */
export function timeoutUsFor(policy: QueuePolicy, requestedUs: number | undefined): number {
  const own = requestedUs ?? 0;
  if (policy.allowTimeoutOverride && own !== 0 && own < policy.defaultTimeoutUs) return own;
  return policy.defaultTimeoutUs;
}

interface Entry<T> {
  readonly item: T;
  /** 0 = never expires. */
  readonly deadlineNs: bigint;
}

interface Level<T> {
  readonly policy: QueuePolicy;
  /** Requests still within their timeout, in arrival order. */
  readonly waiting: Entry<T>[];
  /** Requests whose timeout passed under a DELAY policy: served after `waiting`, never rejected. */
  readonly delayed: T[];
}

export type EnqueueResult = 'queued' | 'full';

/** The queues of all levels; `ordered()` is the order batches are formed in. */
export class PriorityQueues<T> {
  readonly #settings: QueueSettings;
  /** Sorted by level, ascending (level 1 is served first). */
  #levels = new Map<number, Level<T>>();
  #size = 0;

  constructor(settings: QueueSettings) {
    this.#settings = settings;
  }

  get size(): number {
    return this.#size;
  }

  #level(level: number): Level<T> {
    let q = this.#levels.get(level);
    if (!q) {
      q = { policy: policyFor(this.#settings, level), waiting: [], delayed: [] };
      const entries: [number, Level<T>][] = [...this.#levels, [level, q]];
      this.#levels = new Map(entries.sort((a, b) => a[0] - b[0]));
    }
    return q;
  }

  /** Queues `item` at `level`, or answers 'full' when that level holds max_queue_size requests. */
  enqueue(item: T, level: number, requestedTimeoutUs: number | undefined, nowNs: bigint): EnqueueResult {
    const q = this.#level(level);
    if (q.policy.maxQueueSize > 0 && q.waiting.length + q.delayed.length >= q.policy.maxQueueSize) return 'full';
    const timeoutUs = timeoutUsFor(q.policy, requestedTimeoutUs);
    q.waiting.push({ item, deadlineNs: timeoutUs > 0 ? nowNs + BigInt(timeoutUs) * 1000n : 0n });
    this.#size += 1;
    return 'queued';
  }

  /**
   * Applies the timeouts due by `nowNs`: REJECT levels drop the request (returned, for the caller to
   * answer), DELAY levels move it behind the requests still within their time.
   */
  expire(nowNs: bigint): T[] {
    const rejected: T[] = [];
    for (const q of this.#levels.values()) {
      if (!q.waiting.some((e) => e.deadlineNs !== 0n && nowNs >= e.deadlineNs)) continue;
      const keep: Entry<T>[] = [];
      for (const e of q.waiting) {
        if (e.deadlineNs === 0n || nowNs < e.deadlineNs) keep.push(e);
        else if (q.policy.timeoutAction === 'DELAY') q.delayed.push(e.item);
        else rejected.push(e.item);
      }
      q.waiting.splice(0, q.waiting.length, ...keep);
    }
    this.#size -= rejected.length;
    return rejected;
  }

  /** The earliest deadline still pending (undefined when none). */
  nextDeadlineNs(): bigint | undefined {
    let next: bigint | undefined;
    for (const q of this.#levels.values()) {
      for (const e of q.waiting) if (e.deadlineNs !== 0n && (next === undefined || e.deadlineNs < next)) next = e.deadlineNs;
    }
    return next;
  }

  /** Every queued request in serving order: by level, and within a level on-time before delayed. */
  ordered(): T[] {
    const out: T[] = [];
    for (const q of this.#levels.values()) {
      for (const e of q.waiting) out.push(e.item);
      out.push(...q.delayed);
    }
    return out;
  }

  /** Removes and returns the first `n` requests of ordered(). */
  take(n: number): T[] {
    const out: T[] = [];
    for (const q of this.#levels.values()) {
      while (out.length < n && q.waiting.length > 0) out.push((q.waiting.shift() as Entry<T>).item);
      while (out.length < n && q.delayed.length > 0) out.push(q.delayed.shift() as T);
      if (out.length === n) break;
    }
    this.#size -= out.length;
    return out;
  }

  /** Removes one queued request (e.g. its client went away); false when it is not queued. */
  remove(item: T): boolean {
    for (const q of this.#levels.values()) {
      const i = q.waiting.findIndex((e) => e.item === item);
      if (i >= 0) q.waiting.splice(i, 1);
      const j = i >= 0 ? -1 : q.delayed.indexOf(item);
      if (j >= 0) q.delayed.splice(j, 1);
      if (i >= 0 || j >= 0) {
        this.#size -= 1;
        return true;
      }
    }
    return false;
  }
}
