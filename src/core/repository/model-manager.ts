import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { ofsError, toOfsError } from '../../errors.js';
import type { BackendRegistry } from '../backend.js';
import { normalizeConfig } from '../config/normalize.js';
import type { Logger } from '../log.js';
import { formatProblem } from '../problem.js';
import type { ModelCatalog, ModelIndexEntry, ServedModel } from '../served-model.js';
import { DEFAULT_WALK_LIMITS, fingerprintFolder, type WalkLimits } from './change-detect.js';
import type { ResponseCache } from '../cache/response-cache.js';
import type { StatsObserver } from '../stats/model-stats.js';
import { LoadPool } from './load-pool.js';
import { ModelLifecycle, type ModelRecord, type VersionRecord } from './model-lifecycle.js';
import { BackendPlacement, type GpuInfo } from './placement.js';
import type { ModelConfig } from '../config/model-config.js';
import { isEnsemble } from './ensemble-rules.js';
import { listModelFolders, scanModel, type ScannedModel } from './scan.js';
import { validateModelGraphs } from './validate.js';
import { loadVersion } from './version-loader.js';

/**
 * The model manager of one store (after Triton's ModelRepositoryManager): it composes the repository
 * scan and validation (what is on disk), change detection (what changed since the last poll), backend
 * placement (where instances run), the version loader (sessions, warmup, scheduler) and the life cycle
 * (states, and what requests are served from). Loads of different models run side by side in a
 * bounded pool; one model's loads and unloads run in order.
 */

export type ControlMode = 'none' | 'poll' | 'explicit';

/** Triton's --model-load-thread-count default. */
export const DEFAULT_LOAD_THREADS = 4;

export interface ModelManagerOptions {
  readonly storeDir: string;
  /**
   * Every repository, in command-line order (tritonserver takes several --model-repository); when
   * absent, storeDir alone. A model folder name found in two of them is not served, as in Triton.
   */
  readonly storeDirs?: readonly string[];
  readonly backends: BackendRegistry;
  readonly gpu: GpuInfo;
  /** `serve --strict`: refuse KIND_GPU without a usable GPU, as Triton does. */
  readonly strict: boolean;
  readonly controlMode: ControlMode;
  /** Explicit mode: models to load at start ('*' = all). */
  readonly startupModels?: readonly string[];
  readonly log: Logger;
  /** Intra-op threads shared by the instances of a version (default: the machine's cores). */
  readonly threads?: number;
  /** Models loaded at once (Triton's --model-load-thread-count). */
  readonly loadThreads?: number;
  /** Bounds of the poll-mode change walk. */
  readonly walkLimits?: WalkLimits;
  /** Follow links whose target is outside the store (refused by default). */
  readonly allowLinksOutsideStore?: boolean;
  /** The server's response cache (--cache-config); models opt in with response_cache { enable: true }. */
  readonly responseCache?: ResponseCache;
  /** Per model version, something that sees each request's latencies (the metrics endpoint's summaries). */
  readonly statsObserver?: (model: string, version: string) => StatsObserver | undefined;
}

export interface LoadFailure {
  readonly model: string;
  readonly reason: string;
}

export class ModelManager implements ModelCatalog {
  readonly #opts: ModelManagerOptions;
  readonly #lifecycle = new ModelLifecycle();
  readonly #placement: BackendPlacement;
  readonly #pool: LoadPool;
  #stopping = false;
  /** Model folders of the store(s), for storeIndex() in explicit mode. */
  #storeNames: string[] = [];
  /** Numbers loads, so a reloaded version never answers from the cache entries of its predecessor. */
  #loads = 0;

  constructor(opts: ModelManagerOptions) {
    this.#opts = opts;
    this.#placement = new BackendPlacement({ backends: opts.backends, gpu: opts.gpu, strict: opts.strict, log: opts.log });
    this.#pool = new LoadPool(opts.loadThreads ?? DEFAULT_LOAD_THREADS);
  }

  /** Initial load for the control mode; returns the models that failed (the server decides to exit). */
  async start(): Promise<LoadFailure[]> {
    this.#refuseWhenStopping();
    const { controlMode, startupModels = [] } = this.#opts;
    const all = await this.#modelFolders();
    const names =
      controlMode === 'explicit' ? (startupModels.includes('*') ? all : startupModels.filter((n) => n !== '*')) : all;
    const results = await Promise.all(
      names.map(async (name) => {
        // An ensemble loads its composing models first (explicit mode loads them with it).
        if (await this.#isModelFolder(name)) await this.#ensureComposing(name);
        return this.#lifecycle.serialize(name, () =>
          this.#whileRunning(async () => {
            // --load-model names come from the command line: one with no folder must not scan outside the store.
            if (!(await this.#isModelFolder(name))) return { model: name, reason: 'there is no model folder of that name in the model store' };
            // Loaded already, as a composing model of an ensemble.
            const known = this.#lifecycle.record(name);
            if (known) return known.failure ? { model: name, reason: known.failure } : undefined;
            return this.#loadModel(name);
          }),
        );
      }),
    );
    await this.#refreshStoreNames();
    return results.filter((f): f is LoadFailure => f !== undefined);
  }

  /** Poll mode: load new and changed models, unload removed ones. */
  async poll(): Promise<void> {
    this.#refuseWhenStopping();
    const present = new Set(await this.#modelFolders());
    const tasks: Promise<unknown>[] = [];
    for (const name of this.#lifecycle.names()) {
      if (!present.has(name)) tasks.push(this.#lifecycle.serialize(name, () => this.#whileRunning(() => this.#unloadModel(name))));
    }
    for (const name of present) {
      tasks.push(
        this.#lifecycle.serialize(name, () =>
          this.#whileRunning(async () => {
            const known = this.#lifecycle.record(name);
            const fingerprint = await this.#fingerprint(name);
            if (known && known.fingerprint === fingerprint) return;
            await this.#loadModel(name, fingerprint);
          }),
        ),
      );
    }
    await Promise.all(tasks);
  }

  get(name: string, version?: string): ServedModel {
    return this.#lifecycle.get(name, version);
  }

  readyVersions(name: string): string[] {
    return this.#lifecycle.readyVersions(name);
  }

  /**
   * The repository index as Triton answers it: in explicit mode every model folder of the store, the
   * ones not loaded as UNAVAILABLE 'unloaded', so a client can see what it may load.
   */
  storeIndex(): ModelIndexEntry[] {
    const rows = this.#lifecycle.index();
    if (this.#opts.controlMode !== 'explicit') return rows;
    const listed = new Set(rows.map((r) => r.name));
    const unloaded = this.#storeNames.filter((n) => !listed.has(n)).map((name): ModelIndexEntry => ({ name, state: 'UNAVAILABLE', reason: 'unloaded' }));
    return [...rows, ...unloaded].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Explicit mode lists the store's folders in its index; refreshed at start and by each load/unload. */
  async #refreshStoreNames(): Promise<void> {
    if (this.#opts.controlMode !== 'explicit') return;
    this.#storeNames = await this.#modelFolders().catch(() => this.#storeNames);
  }

  index(): ModelIndexEntry[] {
    return this.#lifecycle.index();
  }

  allReady(): boolean {
    return this.#lifecycle.allReady();
  }

  async load(name: string): Promise<void> {
    this.#requireExplicit();
    this.#refuseWhenStopping();
    // An ensemble's composing models load first, in their own queues (never from inside this one).
    const composing = this.#isModelFolder(name).then((ok) => (ok ? this.#ensureComposing(name) : undefined));
    // Queued before anything is awaited, so a load and an unload run in the order they were asked.
    const failure = await this.#lifecycle.serialize(name, () =>
      this.#whileRunning(async () => {
        // The name comes from a URL: `..`, `a/b` or a name with no folder must not make the server scan
        // a folder outside the store, nor leave one more failed entry in the index per request.
        if (!(await this.#isModelFolder(name))) return { model: name, reason: 'there is no model folder of that name in the model store' };
        await composing;
        return this.#loadModel(name);
      }),
    );
    await this.#refreshStoreNames();
    if (failure) throw ofsError('OFS_MODEL_LOAD_FAILED', name, failure.reason);
  }

  async unload(name: string): Promise<void> {
    this.#requireExplicit();
    this.#refuseWhenStopping();
    await this.#lifecycle.serialize(name, () =>
      this.#whileRunning(async () => {
        if (!this.#lifecycle.record(name)) throw ofsError('OFS_MODEL_UNKNOWN', name);
        await this.#unloadModel(name);
      }),
    );
    await this.#refreshStoreNames();
  }

  /**
   * Drains every scheduler (in-flight requests finish) and disposes every session. Loads already
   * running finish first; loads still waiting for a slot, and any asked for after stop, are refused
   * with OFS_SERVER_SHUTTING_DOWN (so a start() cut short by stop() rejects with it).
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#lifecycle.settled();
    await Promise.all(this.#lifecycle.names().map((name) => this.#unloadModel(name)));
  }

  #refuseWhenStopping(): void {
    if (this.#stopping) throw ofsError('OFS_SERVER_SHUTTING_DOWN');
  }

  /** A queued task that starts after stop() was called does nothing but say so. */
  #whileRunning<T>(task: () => Promise<T>): Promise<T> {
    if (this.#stopping) return Promise.reject(ofsError('OFS_SERVER_SHUTTING_DOWN'));
    return task();
  }

  #requireExplicit(): void {
    if (this.#opts.controlMode !== 'explicit') {
      throw ofsError('OFS_NOT_ALLOWED', 'explicit model load / unload is not allowed if polling is enabled');
    }
  }

  get #stores(): readonly string[] {
    return this.#opts.storeDirs?.length ? this.#opts.storeDirs : [this.#opts.storeDir];
  }

  async #modelFolders(): Promise<string[]> {
    const names = new Set<string>();
    for (const store of this.#stores) for (const name of await listModelFolders(store)) names.add(name);
    return [...names].sort();
  }

  /** A plain folder name (no separators, not hidden, not `..`) of a folder (or link to one) in a store. */
  async #isModelFolder(name: string): Promise<boolean> {
    return (await this.#storesHolding(name)).length > 0;
  }

  /** The repositories that hold a model folder of that name (more than one: the model is not unique). */
  async #storesHolding(name: string): Promise<string[]> {
    if (name === '' || name.startsWith('.') || /[/\\\0]/.test(name) || path.basename(name) !== name) return [];
    const holding: string[] = [];
    for (const store of this.#stores) {
      if (await stat(path.join(store, name)).then((s) => s.isDirectory(), () => false)) holding.push(store);
    }
    return holding;
  }

  async #fingerprint(name: string): Promise<string> {
    const stores = await this.#storesHolding(name);
    if (stores.length !== 1) return `stores:${stores.join('|')}`;
    const fp = await fingerprintFolder(path.join(stores[0] as string, name), this.#opts.walkLimits ?? DEFAULT_WALK_LIMITS);
    if (fp.truncated) this.#opts.log.verbose(1, `'${name}': change detection looked at the first ${fp.entries} entries only`);
    return fp.digest;
  }

  /** The config of a model of the store, or undefined (missing, unreadable: its own load says why). */
  async #scanOf(name: string): Promise<ScannedModel | undefined> {
    if (!(await this.#isModelFolder(name))) return undefined;
    const stores = await this.#storesHolding(name);
    return scanModel(stores[0] ?? this.#opts.storeDir, name, { allowLinksOutsideStore: this.#opts.allowLinksOutsideStore }).catch(() => undefined);
  }

  /**
   * Loads the composing models of an ensemble that are not loaded yet, each in its own queue and
   * composing models of composing ensembles first. `chain` stops ensembles that use each other
   * (validation reports the cycle). Queued tasks only ever load one model, so no queue waits on another.
   */
  async #ensureComposing(name: string, chain = new Set<string>()): Promise<void> {
    chain.add(name);
    const scanned = await this.#scanOf(name);
    if (!isEnsemble(scanned?.config)) return;
    for (const step of scanned?.config?.ensemble_scheduling?.step ?? []) {
      const c = step.model_name ?? '';
      if (!c || chain.has(c) || !(await this.#isModelFolder(c))) continue;
      await this.#ensureComposing(c, chain);
      await this.#lifecycle.serialize(c, () =>
        this.#whileRunning(async () => {
          if (this.#lifecycle.record(c)?.versions.some((v) => v.state === 'READY')) return undefined;
          return this.#loadModel(c);
        }),
      );
    }
  }

  /** Why an ensemble cannot serve: a composing model (or the version its step asks for) is not ready. */
  #composingFailure(config: ModelConfig): string | undefined {
    for (const [i, step] of (config.ensemble_scheduling?.step ?? []).entries()) {
      const name = step.model_name ?? '';
      const version = step.model_version === undefined || step.model_version === -1 ? undefined : String(step.model_version);
      try {
        this.#lifecycle.get(name, version);
      } catch (e) {
        return `composing model '${name}' of step ${i} is not available: ${this.#lifecycle.record(name)?.failure ?? toOfsError(e).message}`;
      }
    }
    return undefined;
  }

  /**
   * Scans, validates and loads every served version of a model, in the load pool. The fingerprint is
   * taken before the scan, so an edit made while the model loads is seen by the next poll.
   */
  #loadModel(name: string, knownFingerprint?: string): Promise<LoadFailure | undefined> {
    return this.#pool.run(async () => {
      // A load still waiting for a slot when the server stops is not started (stop waits for the ones running).
      if (this.#stopping) throw ofsError('OFS_SERVER_SHUTTING_DOWN');
      const { log } = this.#opts;
      const fingerprint = knownFingerprint ?? (await this.#fingerprint(name));
      const stores = await this.#storesHolding(name);
      // Triton's wording ("failed to poll model 'm': not unique across all model repositories")
      if (stores.length > 1) return this.#fail(name, fingerprint, `not unique across all model repositories (${stores.join(', ')})`);
      const scanned = await scanModel(stores[0] ?? this.#opts.storeDir, name, { allowLinksOutsideStore: this.#opts.allowLinksOutsideStore }).catch((e: unknown) => toOfsError(e));
      if (scanned instanceof Error) return this.#fail(name, fingerprint, scanned.message);
      // No gpuAvailable here: placement decides the KIND_GPU fallback (and warns about it once).
      const composing = async (n: string) => {
        const m = await this.#scanOf(n);
        return m && { name: n, config: m.config, versions: m.selectedVersions };
      };
      const { problems, graphs } = await validateModelGraphs(scanned, { strict: this.#opts.strict, composing });
      for (const p of problems) if (p.severity === 'warning') log.warn(`${name}: ${formatProblem(p)}`);
      const errors = problems.filter((p) => p.severity === 'error');
      if (errors.length > 0 || !scanned.config) {
        for (const p of errors) log.error(`${name}: ${formatProblem(p)}`);
        return this.#fail(name, fingerprint, errors.map((p) => p.message).join('; ') || 'invalid configuration');
      }
      const config = normalizeConfig(scanned.config, { modelName: name, gpuAvailable: this.#opts.gpu.available });
      if (config.response_cache?.enable && !this.#opts.responseCache) {
        log.warn(
          `${name}: response_cache is enabled in its config but the server has no cache, so requests run uncached (start the server with --cache-config local,size=BYTES)`,
        );
      }
      const notComposable = isEnsemble(config) ? this.#composingFailure(config) : undefined;
      if (notComposable) return this.#fail(name, fingerprint, notComposable);
      const selected = scanned.versions.filter((v) => scanned.selectedVersions.includes(v.version));
      this.#lifecycle.beginLoad(name, selected.map((v) => String(v.version)));

      const loaded: VersionRecord[] = [];
      let firstFailure: string | undefined;
      const threads = this.#opts.threads ?? availableParallelism();
      for (const version of selected) {
        const label = String(version.version);
        // Triton's line before a load: a large model takes seconds, and the log says what is happening.
        log.info(`loading: ${name}:${label}`);
        try {
          this.#loads += 1;
          const { served, sessions } = await loadVersion({
            scanned,
            version,
            config,
            graph: graphs.get(version.version),
            placement: this.#placement,
            threads,
            responseCache: this.#opts.responseCache,
            cacheOwner: `${name}\0${label}\0${this.#loads}`,
            statsObserver: this.#opts.statsObserver?.(name, label),
            catalog: this,
          });
          if ((config.model_warmup ?? []).length) log.info(`'${name}' version ${label}: warmup done`);
          loaded.push({ version: label, state: 'READY', served, sessions });
          log.info(`successfully loaded '${name}' version ${label}`);
        } catch (e) {
          const err = toOfsError(e);
          firstFailure ??= err.message;
          loaded.push({ version: label, state: 'UNAVAILABLE', reason: err.message, sessions: [] });
          log.error(`failed to load '${name}' version ${label}: ${err.message}`);
        }
      }

      const previous = this.#lifecycle.record(name);
      // A reload whose versions all fail (a bad warmup entry, a payload the backend refuses) is a broken
      // edit like a bad config: the versions already serving keep serving.
      if (firstFailure && !loaded.some((v) => v.state === 'READY') && previous?.versions.some((v) => v.state === 'READY')) {
        return this.#fail(name, fingerprint, firstFailure);
      }
      const replaced = this.#lifecycle.commit({ name, versions: loaded, fingerprint });
      if (replaced) await ModelLifecycle.drain(replaced);
      return firstFailure ? { model: name, reason: firstFailure } : undefined;
    });
  }

  #fail(name: string, fingerprint: string, reason: string): LoadFailure {
    if (this.#lifecycle.fail(name, reason, fingerprint)) {
      this.#opts.log.error(`failed to reload '${name}', keeping the loaded versions: ${reason}`);
    } else {
      this.#opts.log.error(`failed to load '${name}': ${reason}`);
    }
    return { model: name, reason };
  }

  async #unloadModel(name: string): Promise<void> {
    const record: ModelRecord | undefined = this.#lifecycle.remove(name);
    if (!record) return;
    await ModelLifecycle.drain(record);
    // A model that never loaded has nothing to unload; saying it was would mislead.
    if (record.versions.length > 0) this.#opts.log.info(`successfully unloaded '${name}'`);
  }
}
