/**
 * Per model-version statistics, after Triton's InferenceStatsAggregator: counted here once, read by
 * both the statistics extension (/v2/models/{m}/stats) and Prometheus (/metrics). No Prometheus here.
 */

export interface Duration {
  count: number;
  ns: number;
}

export interface BatchStats {
  batch_size: number;
  compute_input: Duration;
  compute_infer: Duration;
  compute_output: Duration;
}

export interface StatsSnapshot {
  last_inference: number;
  inference_count: number;
  execution_count: number;
  success: Duration;
  fail: Duration;
  queue: Duration;
  compute_input: Duration;
  compute_infer: Duration;
  compute_output: Duration;
  /** Response cache lookups that answered the request (ns: the lookup). */
  cache_hit: Duration;
  /** Lookups that missed (ns: the lookup plus inserting the computed result). */
  cache_miss: Duration;
  batch_stats: BatchStats[];
  /** Failures by Triton's reason label (REJECTED, CANCELED, BACKEND, OTHER). */
  failures_by_reason: Record<string, number>;
  /** Requests accepted but not yet finished. */
  pending: number;
}

export type FailureReason = 'REJECTED' | 'CANCELED' | 'BACKEND' | 'OTHER';

/** Phase durations of one backend execution. */
export interface ComputeDurations {
  readonly inputNs: number;
  readonly inferNs: number;
  readonly outputNs: number;
}

export interface ModelStats {
  /**
   * A request finished successfully after `requestNs` end-to-end and `queueNs` waiting. `compute` is the
   * execution it was part of: inference_stats.compute_* count per request, and every request of a
   * batch counts the whole batch's durations (Triton's InferenceStatsAggregator::UpdateSuccess).
   */
  recordSuccess(requestNs: number, queueNs: number, compute?: ComputeDurations): void;
  recordFailure(requestNs: number, reason: FailureReason): void;
  /**
   * A request answered from the response cache (Triton's UpdateSuccessCacheHit): counts as a success
   * with its queue time, and as a cache hit; no execution, no compute time.
   */
  recordCacheHit(requestNs: number, queueNs: number, lookupNs: number): void;
  /** A cache miss whose result was then computed (and counted as usual) and inserted. */
  recordCacheMiss(lookupAndInsertNs: number): void;
  /** One backend execution of `batchSize` items with its phase durations. */
  recordExecution(batchSize: number, inputNs: number, inferNs: number, outputNs: number): void;
  requestStarted(): void;
  requestFinished(): void;
  snapshot(): StatsSnapshot;
}
