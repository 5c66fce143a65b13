import { Histogram, Summary, type Registry } from 'prom-client';
import type { ComputeDurations, StatsObserver } from '../../core/stats/model-stats.js';
import type { MetricsConfig } from './config.js';
import { LATENCY_METRIC_NAMES as L, MODEL_LABELS } from './names.js';

/**
 * Triton's per-request latency distributions (--metrics-config summary_latencies / histogram_latencies):
 * summaries in µs over a sliding window, fed by each model version's StatsObserver as requests finish,
 * so their _count and _sum agree with nv_inference_request_success and the *_duration_us counters.
 */

/** prometheus-cpp's defaults, which Triton keeps: quantiles over the last 60 s in 5 buckets. */
const SUMMARY_MAX_AGE_S = 60;
const SUMMARY_AGE_BUCKETS = 5;
/** Triton's buckets for nv_inference_first_response_histogram_ms. */
const FIRST_RESPONSE_BUCKETS_MS = [100, 500, 2000, 5000];

type Labels = { model: string; version: string };

export interface LatencyMetrics {
  /** The observer a model version's stats report to (undefined when no latency family is on). */
  observer(model: string, version: string): StatsObserver | undefined;
  /** Adds the families to a registry; `live` lists the loaded versions, so unloaded ones drop out. */
  register(registry: Registry, live: () => readonly Labels[]): void;
}

export function createLatencyMetrics(config: MetricsConfig): LatencyMetrics {
  const labelNames = [...MODEL_LABELS];
  const percentiles = config.summaryQuantiles.map((q) => q.quantile);
  /** Versions that have reported, and what is loaded now (set by register). */
  const observed = new Map<string, Labels>();
  let live: () => readonly Labels[] = () => [];
  const key = (l: Labels): string => `${l.model}\u0000${l.version}`;
  // Drops the series of versions that were unloaded (Triton removes a model's metrics with it).
  function prune(this: Summary): void {
    const keep = new Set(live().map(key));
    for (const [k, labels] of observed) if (!keep.has(k)) this.remove(labels);
  }
  const summary = (name: string, help: string) =>
    new Summary({
      name,
      help,
      labelNames,
      percentiles,
      maxAgeSeconds: SUMMARY_MAX_AGE_S,
      ageBuckets: SUMMARY_AGE_BUCKETS,
      registers: [],
      collect: prune,
    });
  const summaries = config.summaryLatencies
    ? {
        request: summary(L.requestSummary, 'Summary of inference request duration in microseconds (includes cached requests)'),
        queue: summary(L.queueSummary, 'Summary of inference queuing duration in microseconds (includes cached requests)'),
        input: summary(L.computeInputSummary, 'Summary of compute input duration in microseconds (does not include cached requests)'),
        infer: summary(L.computeInferSummary, 'Summary of compute inference duration in microseconds (does not include cached requests)'),
        output: summary(L.computeOutputSummary, 'Summary of inference compute output duration in microseconds (does not include cached requests)'),
      }
    : undefined;
  // Triton observes it for decoupled models only (time to the first of several responses); every
  // ofserve model answers once, so the family is declared and stays empty, exactly as Triton's is for
  // such models.
  const firstResponse = config.histogramLatencies
    ? new Histogram({
        name: L.firstResponseHistogram,
        help: 'Duration from request to first response in milliseconds',
        labelNames,
        buckets: FIRST_RESPONSE_BUCKETS_MS,
        registers: [],
      })
    : undefined;
  const us = (ns: number): number => Math.max(0, ns) / 1000;

  return {
    observer(model, version) {
      if (!summaries) return undefined;
      const labels: Labels = { model, version };
      observed.set(key(labels), labels);
      return {
        onSuccess(requestNs: number, queueNs: number, compute?: ComputeDurations) {
          summaries.request.observe(labels, us(requestNs));
          summaries.queue.observe(labels, us(queueNs));
          if (compute) {
            summaries.input.observe(labels, us(compute.inputNs));
            summaries.infer.observe(labels, us(compute.inferNs));
            summaries.output.observe(labels, us(compute.outputNs));
          }
        },
      };
    },
    register(registry, loaded) {
      live = loaded;
      for (const family of [...Object.values(summaries ?? {}), ...(firstResponse ? [firstResponse] : [])]) registry.registerMetric(family);
    },
  };
}
