import type { ModelConfig } from './config/model-config.js';
import type { ValueInfo } from './graph/ir.js';
import type { Scheduler } from './scheduler/scheduler.js';
import type { ModelStats } from './stats/model-stats.js';

/** Triton's ModelReadyState. */
export type ModelState = 'UNKNOWN' | 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';

/** A model version the server can run: what the data plane needs, nothing about how it was loaded. */
export interface ServedModel {
  readonly name: string;
  readonly version: string;
  /** Normalized config (defaults filled in). */
  readonly config: ModelConfig;
  /** Platform as reported in metadata (Triton falls back to backend when platform is empty). */
  readonly platform: string;
  /** IO as the config declares it: dims without the batch dimension. */
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  /** Output name → labels (line i = label of class i), from label_filename. */
  readonly labels: ReadonlyMap<string, readonly string[]>;
  readonly scheduler: Scheduler;
  readonly stats: ModelStats;
  /** Requests go through the response cache (config and server both enable it); absent = no. */
  readonly cacheEnabled?: boolean;
}

/** One row of the repository index (POST /v2/repository/index). */
export interface ModelIndexEntry {
  readonly name: string;
  readonly version?: string;
  readonly state: ModelState;
  readonly reason?: string;
}

/**
 * What the data plane reads the model set through. Implemented by the model manager; the server
 * never loads or unloads models itself.
 */
export interface ModelCatalog {
  /**
   * The version to serve: the given one, or the highest READY one when `version` is undefined or ''.
   * Throws OFS_MODEL_UNKNOWN / OFS_MODEL_NO_VERSIONS / OFS_MODEL_VERSION_UNKNOWN.
   */
  get(name: string, version?: string): ServedModel;
  /** READY versions of a model, ascending; throws OFS_MODEL_UNKNOWN for a model not in the store. */
  readyVersions(name: string): string[];
  index(): ModelIndexEntry[];
  /**
   * The repository index API's answer, when it differs from index(): Triton's index lists every model
   * of the repository, loaded or not (explicit mode); absent means index().
   */
  storeIndex?(): ModelIndexEntry[];
  /**
   * Triton's strict readiness: every live version (READY, LOADING, UNLOADING) is READY; models left
   * UNAVAILABLE by a failed load are skipped.
   */
  allReady(): boolean;
  /** Explicit control mode only; otherwise throw OFS_NOT_ALLOWED. */
  load(name: string): Promise<void>;
  unload(name: string): Promise<void>;
}
