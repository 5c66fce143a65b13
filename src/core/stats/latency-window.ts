/**
 * Request latencies of one model version over a recent window, for percentiles that the statistics
 * extension's sums cannot give. A fixed-size ring keeps memory the same whatever the traffic: under
 * load the window is the last `capacity` requests, when quiet the last `windowMs`. Recording is O(1) on
 * the request path; sorting happens only when someone asks for percentiles.
 */

export interface LatencyWindowOptions {
  /** Most samples kept; a new one overwrites the oldest. */
  readonly capacity: number;
  /** Samples older than this no longer count. */
  readonly windowMs: number;
  /** Milliseconds; monotonic by default so a wall-clock step neither empties nor freezes the window. */
  readonly clock?: () => number;
}

export interface LatencyWindow {
  record(ns: number): void;
  /** The latencies (ns) recorded within the window, oldest first. */
  recent(): Float64Array;
}

export function createLatencyWindow(options: LatencyWindowOptions): LatencyWindow {
  const { capacity, windowMs } = options;
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`latency window capacity must be a positive integer, got ${capacity}`);
  if (!(windowMs > 0)) throw new RangeError(`latency window must be longer than 0 ms, got ${windowMs}`);
  const clock = options.clock ?? (() => performance.now());
  const at = new Float64Array(capacity);
  const ns = new Float64Array(capacity);
  let next = 0;
  let size = 0;
  return {
    record(value) {
      at[next] = clock();
      ns[next] = Math.max(0, value);
      next = (next + 1) % capacity;
      if (size < capacity) size += 1;
    },
    recent() {
      const since = clock() - windowMs;
      const out = new Float64Array(size);
      let n = 0;
      for (let i = 0, slot = (next - size + capacity) % capacity; i < size; i++, slot = (slot + 1) % capacity) {
        if (at[slot] > since) out[n++] = ns[slot];
      }
      return out.subarray(0, n);
    },
  };
}

/**
 * Nearest-rank percentiles (the smallest sample with at least p % of the samples at or below it), so
 * every answer is a latency some request really had. `percents` are whole percents in (0, 100] (a
 * fraction such as 99.9 may land one rank off through floating point); an empty sample set has none.
 */
export function percentiles(samples: ArrayLike<number>, percents: readonly number[]): number[] | undefined {
  const n = samples.length;
  if (n === 0) return undefined;
  const sorted = Float64Array.from(samples).sort();
  // p·n/100 rather than (p/100)·n: 90·100/100 is exactly 90, while 0.9·100 is 90.00000000000001.
  return percents.map((p) => sorted[Math.min(n, Math.max(1, Math.ceil((p * n) / 100))) - 1]);
}
