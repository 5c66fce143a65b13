import { ofsError } from '../../errors.js';
import type { Session } from '../backend.js';
import type { ModelConfig } from '../config/model-config.js';
import type { Graph } from '../graph/ir.js';
import { createScheduler } from '../scheduler/create.js';
import { EnsembleScheduler } from '../scheduler/ensemble.js';
import type { ModelCatalog, ServedModel } from '../served-model.js';
import { isEnsemble } from './ensemble-rules.js';
import { builtinSource, servedModel, type ServedOptions } from './served.js';
import type { ResponseCache } from '../cache/response-cache.js';
import type { StatsObserver } from '../stats/model-stats.js';
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
  /** Sees each request's latencies (the metrics endpoint's summaries). */
  readonly statsObserver?: StatsObserver;
  /** Where an ensemble finds its composing models at request time. */
  readonly catalog?: Pick<ModelCatalog, 'get'>;
}

export interface LoadedVersion {
  readonly served: ServedModel;
  readonly sessions: readonly Session[];
}

export async function loadVersion(req: VersionLoadRequest): Promise<LoadedVersion> {
  const { scanned, version, config } = req;
  const name = String(version.version);
  if (isEnsemble(config)) {
    if (!req.catalog) throw ofsError('OFS_INTERNAL', `ensemble '${scanned.name}' loaded without a model catalog`);
    const catalog = req.catalog;
    return { served: servedModel(scanned, config, name, (stats) => new EnsembleScheduler({ config, catalog, stats }), servedOptions(req)), sessions: [] };
  }
  const builtin = builtinSource(scanned.name, name, config);
  if (!builtin && !version.payload) throw ofsError('OFS_NO_VERSIONS', scanned.name);
  const source = builtin ?? (await readModelSource(scanned.name, name, version.payload as NonNullable<typeof version.payload>, req.graph));
  const sessions = await req.placement.createSessions(source, planInstances(config, req.threads));
  try {
    await runWarmup(sessions, config, scanned.dir);
  } catch (e) {
    await Promise.all(sessions.map((s) => s.dispose().catch(() => undefined)));
    throw e;
  }
  const served = servedModel(scanned, config, name, (stats) => createScheduler(config, sessions, stats), servedOptions(req));
  return { served, sessions };
}

function servedOptions(req: VersionLoadRequest): ServedOptions {
  return { statsObserver: req.statsObserver, responseCache: req.responseCache, cacheOwner: req.cacheOwner };
}
