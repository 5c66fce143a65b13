import os from 'node:os';
import { Counter, Gauge, Registry } from 'prom-client';
import type { ModelCatalog } from '../../core/served-model.js';
import type { StatsSnapshot } from '../../core/stats/model-stats.js';
import { FAILURE_REASONS, METRIC_NAMES as N, MODEL_LABELS } from './names.js';

/**
 * Triton's metrics on a fresh prom-client Registry. Every model value is read from ModelStats
 * snapshots at scrape time (collect callbacks), so /metrics and /v2/models/stats can never disagree.
 */

export type MetricsSource = Pick<ModelCatalog, 'index' | 'get' | 'readyVersions'>;

interface Row {
  readonly labels: { model: string; version: string };
  readonly stats: StatsSnapshot;
  readonly cacheEnabled: boolean;
}

function readRows(source: MetricsSource): Row[] {
  const rows: Row[] = [];
  for (const entry of source.index()) {
    if (entry.state !== 'READY') continue;
    const versions = entry.version !== undefined ? [entry.version] : source.readyVersions(entry.name);
    for (const version of versions) {
      try {
        const model = source.get(entry.name, version);
        rows.push({ labels: { model: model.name, version: model.version }, stats: model.stats.snapshot(), cacheEnabled: model.cacheEnabled === true });
      } catch {
        // Unloaded between index() and get(): nothing to report for it in this scrape.
      }
    }
  }
  return rows;
}

const usFromNs = (ns: number): number => Math.floor(ns / 1000);

/** CPU busy fraction since the previous scrape, from os.cpus() tick counters. */
function cpuSampler(): () => number {
  const totals = (): { busy: number; all: number } => {
    let busy = 0;
    let all = 0;
    for (const c of os.cpus()) {
      const t = c.times;
      const sum = t.user + t.nice + t.sys + t.idle + t.irq;
      all += sum;
      busy += sum - t.idle;
    }
    return { busy, all };
  };
  let last = totals();
  return () => {
    const now = totals();
    const all = now.all - last.all;
    const busy = now.busy - last.busy;
    last = now;
    return all > 0 ? Math.min(1, Math.max(0, busy / all)) : 0;
  };
}

export function createMetricsRegistry(source: MetricsSource): Registry {
  const registry = new Registry();
  const registers = [registry];
  const labelNames = [...MODEL_LABELS];

  /** `cacheOnly`: reported for models using the response cache only, as Triton does. */
  const counter = (name: string, help: string, value: (s: StatsSnapshot) => number, cacheOnly = false): void => {
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const row of readRows(source)) if (!cacheOnly || row.cacheEnabled) this.inc(row.labels, value(row.stats));
      },
    });
  };

  counter(N.requestSuccess, 'Number of successful inference requests, all batch sizes', (s) => s.success.count);
  new Counter({
    name: N.requestFailure,
    help: 'Number of failed inference requests, all batch sizes',
    labelNames: [...labelNames, 'reason'],
    registers,
    collect() {
      this.reset();
      for (const row of readRows(source)) {
        for (const reason of FAILURE_REASONS) {
          this.inc({ ...row.labels, reason }, row.stats.failures_by_reason[reason] ?? 0);
        }
      }
    },
  });
  counter(N.inferenceCount, 'Number of inferences performed (does not include cached requests)', (s) => s.inference_count);
  counter(N.execCount, 'Number of model executions performed (does not include cached requests)', (s) => s.execution_count);
  counter(N.requestDuration, 'Cumulative inference request duration in microseconds (includes cached requests)', (s) =>
    usFromNs(s.success.ns),
  );
  counter(N.queueDuration, 'Cumulative inference queuing duration in microseconds (includes cached requests)', (s) =>
    usFromNs(s.queue.ns),
  );
  counter(N.computeInputDuration, 'Cumulative compute input duration in microseconds (does not include cached requests)', (s) =>
    usFromNs(s.compute_input.ns),
  );
  counter(N.computeInferDuration, 'Cumulative compute inference duration in microseconds (does not include cached requests)', (s) =>
    usFromNs(s.compute_infer.ns),
  );
  counter(N.computeOutputDuration, 'Cumulative inference compute output duration in microseconds (does not include cached requests)', (s) =>
    usFromNs(s.compute_output.ns),
  );
  counter(N.cacheHits, 'Number of response cache hits per model', (s) => s.cache_hit.count, true);
  counter(N.cacheMisses, 'Number of response cache misses per model', (s) => s.cache_miss.count, true);
  counter(N.cacheHitDuration, 'Total cache hit duration per model, in microseconds', (s) => usFromNs(s.cache_hit.ns), true);
  counter(N.cacheMissDuration, 'Total cache miss (insert+lookup) duration per model, in microseconds', (s) => usFromNs(s.cache_miss.ns), true);
  new Gauge({
    name: N.pendingRequests,
    help: 'Instantaneous number of pending requests awaiting execution per-model.',
    labelNames,
    registers,
    collect() {
      this.reset();
      for (const row of readRows(source)) this.set(row.labels, row.stats.pending);
    },
  });

  const cpu = cpuSampler();
  new Gauge({
    name: N.cpuUtilization,
    help: 'CPU utilization rate [0.0 - 1.0]',
    registers,
    collect() {
      this.set(cpu());
    },
  });
  new Gauge({
    name: N.cpuMemoryTotal,
    help: 'CPU total memory (RAM), in bytes',
    registers,
    collect() {
      this.set(os.totalmem());
    },
  });
  new Gauge({
    name: N.cpuMemoryUsed,
    help: 'CPU used memory (RAM), in bytes',
    registers,
    collect() {
      this.set(os.totalmem() - os.freemem());
    },
  });
  return registry;
}
