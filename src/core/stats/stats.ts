import type { BatchStats, Duration, FailureReason, ModelStats, StatsSnapshot } from './model-stats.js';

/**
 * ModelStats after Triton's InferenceStatsAggregator: per-request counters (success, fail, queue and
 * the compute phases each request waited through) and per-execution counters (execution_count,
 * inference_count in batch items, batch_stats by batch size).
 */

const zero = (): Duration => ({ count: 0, ns: 0 });
const add = (d: Duration, ns: number): void => {
  d.count += 1;
  d.ns += Math.max(0, Math.round(ns));
};
const copy = (d: Duration): Duration => ({ count: d.count, ns: d.ns });

/** `clock` gives last_inference in ms since the epoch (injectable for tests). */
export function createModelStats(clock: () => number = Date.now): ModelStats {
  let lastInference = 0;
  let inferenceCount = 0;
  let executionCount = 0;
  let pending = 0;
  const success = zero();
  const fail = zero();
  const queue = zero();
  const computeInput = zero();
  const computeInfer = zero();
  const computeOutput = zero();
  const cacheHit = zero();
  const cacheMiss = zero();
  const batches = new Map<number, BatchStats>();
  const failures: Record<FailureReason, number> = { REJECTED: 0, CANCELED: 0, BACKEND: 0, OTHER: 0 };

  return {
    recordSuccess(requestNs, queueNs, compute) {
      add(success, requestNs);
      add(queue, queueNs);
      if (compute) {
        add(computeInput, compute.inputNs);
        add(computeInfer, compute.inferNs);
        add(computeOutput, compute.outputNs);
      }
      lastInference = clock();
    },
    recordFailure(requestNs, reason) {
      add(fail, requestNs);
      failures[reason] += 1;
      lastInference = clock();
    },
    recordCacheHit(requestNs, queueNs, lookupNs) {
      add(success, requestNs);
      add(queue, queueNs);
      add(cacheHit, lookupNs);
      lastInference = clock();
    },
    recordCacheMiss(ns) {
      add(cacheMiss, ns);
    },
    recordExecution(batchSize, inputNs, inferNs, outputNs) {
      executionCount += 1;
      inferenceCount += batchSize;
      let b = batches.get(batchSize);
      if (!b) {
        b = { batch_size: batchSize, compute_input: zero(), compute_infer: zero(), compute_output: zero() };
        batches.set(batchSize, b);
      }
      add(b.compute_input, inputNs);
      add(b.compute_infer, inferNs);
      add(b.compute_output, outputNs);
      lastInference = clock();
    },
    requestStarted() {
      pending += 1;
    },
    requestFinished() {
      pending = Math.max(0, pending - 1);
    },
    snapshot(): StatsSnapshot {
      return {
        last_inference: lastInference,
        inference_count: inferenceCount,
        execution_count: executionCount,
        success: copy(success),
        fail: copy(fail),
        queue: copy(queue),
        compute_input: copy(computeInput),
        compute_infer: copy(computeInfer),
        compute_output: copy(computeOutput),
        cache_hit: copy(cacheHit),
        cache_miss: copy(cacheMiss),
        batch_stats: [...batches.values()]
          .sort((a, b) => a.batch_size - b.batch_size)
          .map((b) => ({
            batch_size: b.batch_size,
            compute_input: copy(b.compute_input),
            compute_infer: copy(b.compute_infer),
            compute_output: copy(b.compute_output),
          })),
        failures_by_reason: { ...failures },
        pending,
      };
    },
  };
}
