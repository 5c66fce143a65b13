import type { ModelCatalog } from '../served-model.js';
import { createLatencyWindow, percentiles, type LatencyWindow } from './latency-window.js';
import type { StatsObserver } from './model-stats.js';

/**
 * Recent request-latency percentiles per model version, for the web console. Fed by each version's
 * StatsObserver beside the Prometheus summaries, and on whatever --metrics-config says: a request
 * costs a map lookup and one ring slot, and memory is one fixed-size window per version that is loaded
 * or has answered a request since the last summary.
 */

/** prometheus-cpp's summary age, which Triton's latency summaries keep. */
export const DEFAULT_RECENT_WINDOW_MS = 60_000;
/** Enough for a meaningful p99 (20 samples above it) at 32 KiB per version (two Float64Arrays). */
export const DEFAULT_RECENT_CAPACITY = 2048;

export interface VersionRef {
  readonly model: string;
  readonly version: string;
}

export interface LatencySummary {
  /** Successful requests in the window. */
  readonly count: number;
  /** Nearest-rank request latency percentiles in ns; absent when the window is empty. */
  readonly percentilesNs?: { readonly p50: number; readonly p90: number; readonly p99: number };
}

export interface ModelLatency extends LatencySummary {
  readonly model: string;
  /** Each version's own; the model's figures above pool the samples of all of them. */
  readonly versions: ReadonlyArray<LatencySummary & { readonly version: string }>;
}

export interface RecentLatency {
  readonly windowMs: number;
  readonly capacity: number;
  observer(model: string, version: string): StatsObserver;
  /** Models of the `live` versions, sorted by name; windows of versions not in `live` are dropped. */
  summarize(live: readonly VersionRef[]): ModelLatency[];
}

export interface RecentLatencyOptions {
  readonly windowMs?: number;
  readonly capacity?: number;
  /** Milliseconds, injectable for tests. */
  readonly clock?: () => number;
}

function summary(samples: ArrayLike<number>): LatencySummary {
  const p = percentiles(samples, [50, 90, 99]);
  return p ? { count: samples.length, percentilesNs: { p50: p[0], p90: p[1], p99: p[2] } } : { count: 0 };
}

export function createRecentLatency(options: RecentLatencyOptions = {}): RecentLatency {
  const windowMs = options.windowMs ?? DEFAULT_RECENT_WINDOW_MS;
  const capacity = options.capacity ?? DEFAULT_RECENT_CAPACITY;
  const windows = new Map<string, LatencyWindow>();
  const key = (model: string, version: string): string => `${model}\u0000${version}`;
  return {
    windowMs,
    capacity,
    observer(model, version) {
      const k = key(model, version);
      // Looked up per request rather than captured: a summary may drop the window of a version that is
      // still loading (not READY yet), and its first request then starts a new one. A version reloaded
      // in place (poll mode) shares its window with the instance it replaces.
      return {
        onSuccess(requestNs) {
          let window = windows.get(k);
          if (!window) {
            window = createLatencyWindow({ capacity, windowMs, clock: options.clock });
            windows.set(k, window);
          }
          window.record(requestNs);
        },
      };
    },
    summarize(live) {
      const keep = new Set(live.map((v) => key(v.model, v.version)));
      for (const k of windows.keys()) if (!keep.has(k)) windows.delete(k);
      const byModel = new Map<string, { version: string; samples: Float64Array }[]>();
      for (const v of live) {
        const samples = windows.get(key(v.model, v.version))?.recent() ?? new Float64Array(0);
        const list = byModel.get(v.model) ?? [];
        if (!list.some((x) => x.version === v.version)) list.push({ version: v.version, samples });
        byModel.set(v.model, list);
      }
      return [...byModel.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([model, versions]) => ({
          model,
          ...summary(versions.flatMap((v) => Array.from(v.samples))),
          versions: versions.map((v) => ({ version: v.version, ...summary(v.samples) })),
        }));
    },
  };
}

/** Every READY version of the catalog, as the statistics extension lists them. */
export function readyVersionRefs(catalog: Pick<ModelCatalog, 'index' | 'readyVersions'>): VersionRef[] {
  const refs: VersionRef[] = [];
  for (const entry of catalog.index()) {
    if (entry.state !== 'READY') continue;
    let versions: string[];
    try {
      versions = entry.version !== undefined ? [entry.version] : catalog.readyVersions(entry.name);
    } catch {
      continue; // unloaded since index(): nothing to report for it
    }
    for (const version of versions) refs.push({ model: entry.name, version });
  }
  return refs;
}
