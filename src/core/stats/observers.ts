import type { StatsObserver } from './model-stats.js';

/**
 * One StatsObserver that reports to several, so a model version's stats can feed both the Prometheus
 * latency summaries (only with --metrics-config) and the console's percentiles (always) through the
 * one hook createModelStats has. Undefined when none is given, which keeps the stats observer-free.
 */
export function composeObservers(...observers: ReadonlyArray<StatsObserver | undefined>): StatsObserver | undefined {
  const all = observers.filter((o): o is StatsObserver => o !== undefined);
  if (all.length <= 1) return all[0];
  return {
    onSuccess(requestNs, queueNs, compute) {
      for (const o of all) o.onSuccess(requestNs, queueNs, compute);
    },
  };
}
