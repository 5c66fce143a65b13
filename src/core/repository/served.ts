import type { ModelSource } from '../backend.js';
import { BACKEND_IMAGE } from '../config/constants.js';
import type { ModelConfig } from '../config/model-config.js';
import type { ValueInfo } from '../graph/ir.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { ServedModel } from '../served-model.js';
import type { ResponseCache } from '../cache/response-cache.js';
import { CachedScheduler } from '../scheduler/cached.js';
import type { ModelStats, StatsObserver } from '../stats/model-stats.js';
import { createModelStats } from '../stats/stats.js';
import { dtypeFromConfig } from '../tensor/dtype.js';
import type { ScannedModel } from './scan.js';

export interface ServedOptions {
  /** Sees each request's latencies (the metrics endpoint's summaries). */
  readonly statsObserver?: StatsObserver;
  /** The server's response cache (--cache-config); used when the config has response_cache { enable: true }. */
  readonly responseCache?: ResponseCache;
  /**
   * Names this load in cache keys (model, version, load number), so a reloaded version never answers
   * from the entries of its predecessor.
   */
  readonly cacheOwner?: string;
}

/**
 * The ServedModel of one loaded version: IO and labels from the config, its own statistics, and the
 * response cache in front of its scheduler when both the config and the server enable it.
 */
export function servedModel(
  scanned: ScannedModel,
  config: ModelConfig,
  version: string,
  scheduler: (stats: ModelStats) => Scheduler,
  opts: ServedOptions = {},
): ServedModel {
  const stats = createModelStats(Date.now, opts.statsObserver);
  const cache = opts.responseCache;
  const cacheEnabled = config.response_cache?.enable === true && cache !== undefined;
  const inner = scheduler(stats);
  const labels = new Map<string, readonly string[]>();
  for (const l of scanned.labels) if (l.labels) labels.set(l.output, l.labels);
  return {
    name: scanned.name,
    version,
    config,
    platform: config.platform || config.backend || '',
    inputs: (config.input ?? []).map(valueInfo),
    outputs: (config.output ?? []).map(valueInfo),
    labels,
    scheduler: cacheEnabled ? new CachedScheduler({ inner, cache, stats, owner: opts.cacheOwner ?? `${scanned.name}\0${version}` }) : inner,
    stats,
    cacheEnabled,
  };
}

export function valueInfo(t: { name?: string; data_type?: string; dims?: readonly number[] }): ValueInfo {
  return { name: t.name ?? '', dtype: dtypeFromConfig(t.data_type ?? '')?.wire ?? 'FP32', shape: [...(t.dims ?? [])] };
}

/**
 * The source of a model run by a built-in backend (no payload): its IO as the config declares it,
 * batch dim first when it batches, and the config itself, where the backend reads its parameters.
 */
export function builtinSource(model: string, version: string, config: ModelConfig): ModelSource | undefined {
  if (config.backend !== BACKEND_IMAGE) return undefined;
  const batched = (config.max_batch_size ?? 0) > 0;
  const io = (t: { name?: string; data_type?: string; dims?: readonly number[] }): ValueInfo => {
    const v = valueInfo(t);
    return batched ? { ...v, shape: [-1, ...v.shape] } : v;
  };
  return {
    model,
    version,
    backend: BACKEND_IMAGE,
    config,
    graph: { name: model, inputs: (config.input ?? []).map(io), outputs: (config.output ?? []).map(io), nodes: [], initializers: [], opset: 17 },
  };
}
