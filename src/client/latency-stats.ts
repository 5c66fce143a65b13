/** Client latency statistics as perf_analyzer reports them, in whole microseconds. */

export interface LatencySummary {
  readonly count: number;
  readonly avg: number;
  readonly std: number;
  readonly min: number;
  readonly max: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  /** perf_analyzer's --percentile, when one was asked for: { [p]: latency }. */
  readonly percentiles?: Readonly<Record<number, number>>;
}

/**
 * Nearest-rank percentile of ascending-sorted values: the smallest value with at least p% of the
 * samples at or below it (rank ⌈p/100 · n⌉, 1-based). Always an observed sample, never interpolated.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

export function summarizeLatencies(samplesUs: readonly number[], extraPercentile?: number): LatencySummary {
  const n = samplesUs.length;
  const extra = (value: number) => (extraPercentile === undefined ? {} : { percentiles: { [extraPercentile]: value } });
  if (n === 0) return { count: 0, avg: 0, std: 0, min: 0, max: 0, p50: 0, p90: 0, p95: 0, p99: 0, ...extra(0) };
  const sorted = [...samplesUs].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / n;
  const variance = sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
  return {
    count: n,
    avg: Math.round(mean),
    std: Math.round(Math.sqrt(variance)),
    min: Math.round(sorted[0]),
    max: Math.round(sorted[n - 1]),
    p50: Math.round(percentile(sorted, 50)),
    p90: Math.round(percentile(sorted, 90)),
    p95: Math.round(percentile(sorted, 95)),
    p99: Math.round(percentile(sorted, 99)),
    ...extra(Math.round(percentile(sorted, extraPercentile ?? 50))),
  };
}

/** Inferences per second: every request carries `batchSize` inferences. */
export function throughput(requests: number, batchSize: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (requests * batchSize * 1000) / elapsedMs : 0;
}
