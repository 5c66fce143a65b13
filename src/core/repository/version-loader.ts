import { ofsError } from '../../errors.js';
import type { Session } from '../backend.js';
import type { ModelConfig } from '../config/model-config.js';
import type { Graph, ValueInfo } from '../graph/ir.js';
import type { ResponseCache } from '../cache/response-cache.js';
import { CachedScheduler } from '../scheduler/cached.js';
import { createScheduler } from '../scheduler/create.js';
import type { ServedModel } from '../served-model.js';
import { createModelStats } from '../stats/stats.js';
import { dtypeFromConfig } from '../tensor/dtype.js';
import { readModelSource } from './model-io.js';
import { planInstances, type BackendPlacement } from './placement.js';
import type { ScannedModel, ScannedVersion } from './scan.js';
import { runWarmup } from './warmup.js';

/**
 * Loads one version of a validated model: reads its payload, creates one session per instance where
 * placement puts it, runs the warmup, and wraps the sessions in a scheduler. What comes back serves
 * requests as is; on any failure the sessions already made are disposed before the error is thrown.
 */

export interface VersionLoadRequest {
  readonly scanned: ScannedModel;
  readonly version: ScannedVersion;
  /** Normalized config. */
  readonly config: ModelConfig;
  /** The graph validation read, if any. */
  readonly graph?: Graph;
  readonly placement: BackendPlacement;
  /** Intra-op threads shared by the version's instances. */
  readonly threads: number;
  /** The server's response cache (--cache-config); used when the config has response_cache { enable: true }. */
  readonly responseCache?: ResponseCache;
  /**
   * Names this load in cache keys (model, version, load number), so a reloaded version never answers
   * from the entries of its predecessor.
   */
  readonly cacheOwner?: string;
}

export interface LoadedVersion {
  readonly served: ServedModel;
  readonly sessions: readonly Session[];
}

export async function loadVersion(req: VersionLoadRequest): Promise<LoadedVersion> {
  const { scanned, version, config } = req;
  if (!version.payload) throw ofsError('OFS_NO_VERSIONS', scanned.name);
  const name = String(version.version);
  const source = await readModelSource(scanned.name, name, version.payload, req.graph);
  const sessions = await req.placement.createSessions(source, planInstances(config, req.threads));
  try {
    await runWarmup(sessions, config, scanned.dir);
  } catch (e) {
    await Promise.all(sessions.map((s) => s.dispose().catch(() => undefined)));
    throw e;
  }
  const stats = createModelStats();
  const labels = new Map<string, readonly string[]>();
  for (const l of scanned.labels) if (l.labels) labels.set(l.output, l.labels);
  const cache = req.responseCache;
  const cacheEnabled = config.response_cache?.enable === true && cache !== undefined;
  const scheduler = createScheduler(config, sessions, stats);
  const served: ServedModel = {
    name: scanned.name,
    version: name,
    config,
    platform: config.platform || config.backend || '',
    inputs: (config.input ?? []).map(valueInfo),
    outputs: (config.output ?? []).map(valueInfo),
    labels,
    scheduler: cacheEnabled
      ? new CachedScheduler({ inner: scheduler, cache, stats, owner: req.cacheOwner ?? `${scanned.name}\0${name}` })
      : scheduler,
    stats,
    cacheEnabled,
  };
  return { served, sessions };
}

function valueInfo(t: { name?: string; data_type?: string; dims?: number[] }): ValueInfo {
  return { name: t.name ?? '', dtype: dtypeFromConfig(t.data_type ?? '')?.wire ?? 'FP32', shape: t.dims ?? [] };
}
