import { readFile, readdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { isOfsError, ofsError, toOfsError } from '../../errors.js';
import type { BackendRegistry, DeviceKind, ModelSource, Session, SessionOptions } from '../backend.js';
import { normalizeConfig } from '../config/normalize.js';
import type { ModelConfig } from '../config/model-config.js';
import type { Graph } from '../graph/ir.js';
import { loadOneflowModel } from '../graph/oneflow/index.js';
import { readOnnxModel } from '../graph/onnx-reader.js';
import type { Logger } from '../log.js';
import { formatProblem } from '../problem.js';
import { createScheduler } from '../scheduler/create.js';
import { EnsembleScheduler } from '../scheduler/ensemble.js';
import type { ModelCatalog, ModelIndexEntry, ModelState, ServedModel } from '../served-model.js';
import { listModelFolders, scanModel, type ScannedModel, type ScannedVersion } from './scan.js';
import { validateModelGraphs } from './validate.js';
import { runWarmup } from './warmup.js';
import { isEnsemble } from './ensemble-rules.js';
import { builtinSource, servedModel } from './served.js';

/**
 * Loads, serves and unloads the models of one store (after Triton's model_lifecycle): discovery is the
 * scan, this class owns the READY/UNAVAILABLE/LOADING/UNLOADING state per version, and a reload loads
 * the new versions fully before the old ones stop, so a poll never leaves a gap in service.
 */

export type ControlMode = 'none' | 'poll' | 'explicit';

export interface LifecycleOptions {
  readonly storeDir: string;
  /**
   * Every repository, in command-line order (tritonserver takes several --model-repository); when
   * absent, storeDir alone. A model folder name found in two of them is not served, as in Triton.
   */
  readonly storeDirs?: readonly string[];
  readonly backends: BackendRegistry;
  readonly gpu: { readonly available: boolean; readonly reason: string };
  /** Refuse KIND_GPU groups when no GPU is usable (Triton's behaviour) instead of running them on CPU. */
  readonly strictGpu: boolean;
  readonly controlMode: ControlMode;
  /** Explicit mode: models to load at start ('*' = all). */
  readonly startupModels?: readonly string[];
  readonly log: Logger;
  /** Intra-op threads shared by all instances (default: the machine's cores). */
  readonly threads?: number;
}

interface VersionRecord {
  readonly version: string;
  state: ModelState;
  reason?: string;
  served?: ServedModel;
  sessions: Session[];
}

interface ModelRecord {
  readonly name: string;
  versions: VersionRecord[];
  /** Set when the model failed before any version could load (bad config, …). */
  failure?: string;
  fingerprint: string;
}

export interface LoadFailure {
  readonly model: string;
  readonly reason: string;
}

export class ModelLifecycle implements ModelCatalog {
  readonly #opts: LifecycleOptions;
  readonly #models = new Map<string, ModelRecord>();
  #gpuWarned = new Set<string>();
  /**
   * Loads, unloads, polls and stop run one at a time: a stop while a poll is loading, or an unload while
   * a load of the same model is under way, would otherwise leave sessions running that nothing owns.
   */
  #queue: Promise<unknown> = Promise.resolve();
  #stopping = false;

  constructor(opts: LifecycleOptions) {
    this.#opts = opts;
  }

  /** Initial load for the control mode; returns the models that failed (the server decides to exit). */
  async start(): Promise<LoadFailure[]> {
    return this.#exclusive(async () => {
      const { controlMode, startupModels = [] } = this.#opts;
      const all = await this.#modelFolders();
      const names =
        controlMode === 'explicit' ? (startupModels.includes('*') ? all : startupModels.filter((n) => n !== '*')) : all;
      const failures: LoadFailure[] = [];
      for (const name of names) {
        // An ensemble loaded before this name may have loaded it already as one of its steps.
        const already = this.#models.get(name);
        if (already) {
          if (already.failure) failures.push({ model: name, reason: already.failure });
          continue;
        }
        // --load-model names come from the command line: one with no folder must not scan outside the store.
        if (!(await this.#isModelFolder(name))) {
          failures.push({ model: name, reason: 'there is no model folder of that name in the model store' });
          continue;
        }
        const failure = await this.#loadModel(name);
        if (failure) failures.push(failure);
      }
      return failures;
    });
  }

  /** Poll mode: load new and changed models, unload removed ones. */
  async poll(): Promise<void> {
    return this.#exclusive(async () => {
      const present = new Set(await this.#modelFolders());
      for (const name of [...this.#models.keys()]) if (!present.has(name)) await this.#unloadModel(name);
      for (const name of present) {
        const known = this.#models.get(name);
        if (known && known.fingerprint === (await this.#fingerprint(name))) continue;
        await this.#loadModel(name);
      }
    });
  }

  get(name: string, version?: string): ServedModel {
    const record = this.#models.get(name);
    if (!record) throw ofsError('OFS_MODEL_UNKNOWN', name);
    if (version) {
      const v = record.versions.find((r) => r.version === version);
      if (!v?.served || v.state !== 'READY') {
        if (!v) throw ofsError('OFS_MODEL_VERSION_UNKNOWN', name, version);
        throw ofsError('OFS_MODEL_NOT_READY', name);
      }
      return v.served;
    }
    const ready = record.versions.filter((v) => v.state === 'READY' && v.served);
    if (ready.length === 0) throw ofsError('OFS_MODEL_NO_VERSIONS', name);
    return ready[ready.length - 1].served as ServedModel;
  }

  readyVersions(name: string): string[] {
    const record = this.#models.get(name);
    if (!record) throw ofsError('OFS_MODEL_UNKNOWN', name);
    return record.versions.filter((v) => v.state === 'READY').map((v) => v.version);
  }

  index(): ModelIndexEntry[] {
    const out: ModelIndexEntry[] = [];
    for (const record of [...this.#models.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      if (record.versions.length === 0) {
        out.push({ name: record.name, state: record.failure ? 'UNAVAILABLE' : 'UNKNOWN', ...(record.failure ? { reason: record.failure } : {}) });
      }
      for (const v of record.versions) {
        out.push({ name: record.name, version: v.version, state: v.state, ...(v.reason ? { reason: v.reason } : {}) });
      }
    }
    return out;
  }

  allReady(): boolean {
    for (const record of this.#models.values()) {
      if (record.failure || record.versions.length === 0) return false;
      if (record.versions.some((v) => v.state !== 'READY')) return false;
    }
    return true;
  }

  async load(name: string): Promise<void> {
    this.#requireExplicit();
    return this.#exclusive(async () => {
      // The name comes from a URL: `..`, `a/b` or a name with no folder must not make the server scan
      // a folder outside the store, nor leave one more failed entry in the index per request.
      if (!(await this.#isModelFolder(name))) {
        throw ofsError('OFS_MODEL_LOAD_FAILED', name, 'there is no model folder of that name in the model store');
      }
      const failure = await this.#loadModel(name);
      if (failure) throw ofsError('OFS_MODEL_LOAD_FAILED', name, failure.reason);
    });
  }

  async unload(name: string): Promise<void> {
    this.#requireExplicit();
    return this.#exclusive(async () => {
      if (!this.#models.has(name)) throw ofsError('OFS_MODEL_UNKNOWN', name);
      await this.#unloadModel(name);
    });
  }

  /**
   * Drains every scheduler (in-flight requests finish) and disposes every session. A load or poll
   * already running finishes first; one asked for after stop loads nothing.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    return this.#exclusive(async () => {
      for (const name of [...this.#models.keys()]) await this.#unloadModel(name);
    }, true);
  }

  /** Runs `task` after every earlier one has settled; refused once stop() was called (except stop's own). */
  #exclusive<T>(task: () => Promise<T>, evenWhenStopping = false): Promise<T> {
    const run = this.#queue.then(() => {
      if (this.#stopping && !evenWhenStopping) throw ofsError('OFS_SERVER_SHUTTING_DOWN');
      return task();
    });
    this.#queue = run.catch(() => undefined);
    return run;
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

  /** Changes when config.pbtxt, a label file or a version folder's payload changes. */
  async #fingerprint(name: string): Promise<string> {
    const stores = await this.#storesHolding(name);
    if (stores.length !== 1) return `stores:${stores.join('|')}`;
    const dir = path.join(stores[0] as string, name);
    const parts: string[] = [];
    const walk = async (d: string, depth: number): Promise<void> => {
      let entries;
      try {
        entries = await readdir(d, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        const p = path.join(d, e.name);
        const s = await stat(p).catch(() => undefined);
        if (!s) continue;
        parts.push(`${path.relative(dir, p)}:${s.size}:${s.mtimeMs}`);
        // model/ folders hold hundreds of variables; their top-level mtimes are enough to see a re-save
        if (e.isDirectory() && depth < 2) await walk(p, depth + 1);
      }
    };
    await walk(dir, 0);
    return parts.join('|');
  }

  async #loadModel(name: string): Promise<LoadFailure | undefined> {
    const { log } = this.#opts;
    const fingerprint = await this.#fingerprint(name);
    const stores = await this.#storesHolding(name);
    // Triton's wording ("failed to poll model 'm': not unique across all model repositories")
    if (stores.length > 1) return this.#fail(name, fingerprint, `not unique across all model repositories (${stores.join(', ')})`);
    const scanned = await scanModel(stores[0] ?? this.#opts.storeDir, name).catch((e: unknown) => toOfsError(e));
    if (scanned instanceof Error) return this.#fail(name, fingerprint, scanned.message);
    // An ensemble needs its steps' models: load those not loaded yet (explicit mode loads them with it).
    const composingFailure = isEnsemble(scanned.config) ? await this.#loadComposing(name, scanned.config as ModelConfig) : undefined;
    if (composingFailure) return this.#fail(name, fingerprint, composingFailure);
    // No gpuAvailable here: the KIND_GPU fallback is decided (and warned about once) in #deviceFor.
    const { problems, graphs } = await validateModelGraphs(scanned, { composing: (n) => this.#scanComposing(n) });
    for (const p of problems) if (p.severity === 'warning') log.warn(`${name}: ${formatProblem(p)}`);
    const errors = problems.filter((p) => p.severity === 'error');
    if (errors.length > 0 || !scanned.config) {
      for (const p of errors) log.error(`${name}: ${formatProblem(p)}`);
      return this.#fail(name, fingerprint, errors.map((p) => p.message).join('; ') || 'invalid configuration');
    }
    const config = normalizeConfig(scanned.config, { modelName: name, gpuAvailable: this.#opts.gpu.available });

    const loaded: VersionRecord[] = [];
    let firstFailure: string | undefined;
    for (const version of scanned.versions.filter((v) => scanned.selectedVersions.includes(v.version))) {
      const record: VersionRecord = { version: String(version.version), state: 'LOADING', sessions: [] };
      try {
        const served = await this.#loadVersion(scanned, version, config, record, graphs.get(version.version));
        record.served = served;
        record.state = 'READY';
        log.info(`successfully loaded '${name}' version ${record.version}`);
      } catch (e) {
        const err = toOfsError(e);
        record.state = 'UNAVAILABLE';
        record.reason = err.message;
        firstFailure ??= err.message;
        await Promise.all(record.sessions.map((s) => s.dispose().catch(() => undefined)));
        record.sessions = [];
        log.error(`failed to load '${name}' version ${record.version}: ${err.message}`);
      }
      loaded.push(record);
    }

    const previous = this.#models.get(name);
    // A reload whose versions all fail (a bad warmup entry, a payload the backend refuses) is a broken
    // edit like a bad config: the versions already serving keep serving.
    if (firstFailure && !loaded.some((v) => v.state === 'READY') && previous?.versions.some((v) => v.state === 'READY')) {
      return this.#fail(name, fingerprint, firstFailure);
    }
    // Swap in the new versions, then drain the old ones: requests never see a model without a version.
    this.#models.set(name, { name, versions: loaded, fingerprint });
    if (previous) await this.#drain(previous);
    return firstFailure ? { model: name, reason: firstFailure } : undefined;
  }

  #fail(name: string, fingerprint: string, reason: string): LoadFailure {
    const previous = this.#models.get(name);
    // A broken edit of a serving model keeps the old versions serving (Triton keeps the loaded one too).
    if (previous && previous.versions.some((v) => v.state === 'READY')) {
      previous.fingerprint = fingerprint;
      this.#opts.log.error(`failed to reload '${name}', keeping the loaded versions: ${reason}`);
    } else {
      this.#models.set(name, { name, versions: [], failure: reason, fingerprint });
      this.#opts.log.error(`failed to load '${name}': ${reason}`);
    }
    return { model: name, reason };
  }

  /** Models an ensemble is composing, loading, in an ensemble's load; a guard against ensembles in a cycle. */
  readonly #composingChain = new Set<string>();

  /** Loads the composing models of an ensemble that are not ready; the reason when one cannot serve. */
  async #loadComposing(ensemble: string, config: ModelConfig): Promise<string | undefined> {
    this.#composingChain.add(ensemble);
    try {
      for (const step of config.ensemble_scheduling?.step ?? []) {
        const name = step.model_name ?? '';
        // Unknown names and cycles are reported by validation, with file and field.
        if (!name || this.#composingChain.has(name) || !(await this.#isModelFolder(name))) continue;
        if (!this.#models.get(name)?.versions.some((v) => v.state === 'READY')) await this.#loadModel(name);
        const version = step.model_version === undefined || step.model_version === -1 ? undefined : String(step.model_version);
        try {
          this.get(name, version);
        } catch (e) {
          const record = this.#models.get(name);
          return `composing model '${name}' of step ${config.ensemble_scheduling?.step?.indexOf(step)} is not available: ${record?.failure ?? toOfsError(e).message}`;
        }
      }
      return undefined;
    } finally {
      this.#composingChain.delete(ensemble);
    }
  }

  async #scanComposing(name: string): Promise<{ name: string; config?: ModelConfig; versions: readonly number[] } | undefined> {
    if (!(await this.#isModelFolder(name))) return undefined;
    const scanned = await scanModel(this.#opts.storeDir, name).catch(() => undefined);
    return scanned && { name, config: scanned.config, versions: scanned.selectedVersions };
  }

  async #loadVersion(
    scanned: ScannedModel,
    version: ScannedVersion,
    config: ModelConfig,
    record: VersionRecord,
    validated: Graph | undefined,
  ): Promise<ServedModel> {
    if (isEnsemble(config)) {
      return servedModel(scanned, config, record.version, (stats) => new EnsembleScheduler({ config, catalog: this, stats }));
    }
    const payload = version.payload;
    let source: ModelSource;
    const builtin = builtinSource(scanned.name, record.version, config);
    if (builtin) source = builtin;
    else if (!payload) throw ofsError('OFS_NO_VERSIONS', scanned.name);
    else if (payload.kind === 'onnx') {
      // ORT takes the original bytes, so the file is read again rather than re-serialized.
      const bytes = new Uint8Array(await readFile(payload.path));
      source = { model: scanned.name, version: record.version, graph: validated ?? readOnnxModel(bytes, payload.file), onnx: bytes };
    } else {
      // Validation already imported the graph with its weights (and reported its warnings).
      const graph = validated ?? (await loadOneflowModel(payload.path)).graph;
      source = { model: scanned.name, version: record.version, graph };
    }

    const groups = config.instance_group ?? [];
    const totalInstances = Math.max(1, groups.reduce((n, g) => n + (g.count ?? 1), 0));
    const threads = Math.max(1, Math.floor((this.#opts.threads ?? availableParallelism()) / totalInstances));
    const maxBatch = Math.max(1, config.max_batch_size ?? 0);
    for (const group of groups) {
      const device = this.#deviceFor(scanned.name, group.kind ?? 'KIND_CPU');
      for (let i = 0; i < (group.count ?? 1); i++) {
        const gpu = group.gpus?.[i % (group.gpus.length || 1)];
        record.sessions.push(await this.#createSession(source, { device, gpu, threads, maxBatch }));
      }
    }

    await runWarmup(record.sessions, config, scanned.dir);
    if ((config.model_warmup ?? []).length) this.#opts.log.info(`'${scanned.name}' version ${record.version}: warmup done`);

    return servedModel(scanned, config, record.version, (stats) => createScheduler(config, record.sessions, stats));
  }

  /**
   * A session on the device asked for. A model the GPU backend cannot run (an op outside its subset)
   * runs on CPU with one warning, like a KIND_GPU group on a machine without a GPU; --strict refuses.
   */
  async #createSession(source: ModelSource, options: SessionOptions): Promise<Session> {
    const backend = source.backend ? this.#opts.backends.named(source.backend) : await this.#opts.backends.resolve(options.device);
    try {
      return await backend.createSession(source, options);
    } catch (e) {
      if (options.device !== 'gpu' || this.#opts.strictGpu || !isOfsError(e) || e.code !== 'OFS_NATIVE_UNSUPPORTED') throw e;
      if (!this.#gpuWarned.has(source.model)) {
        this.#gpuWarned.add(source.model);
        this.#opts.log.warn(`model '${source.model}' runs on CPU: the GPU backend cannot run it (${e.message})`);
      }
      const cpu = await this.#opts.backends.resolve('cpu');
      return cpu.createSession(source, { ...options, device: 'cpu', threads: options.threads });
    }
  }

  #deviceFor(model: string, kind: string): DeviceKind {
    if (kind !== 'KIND_GPU') return 'cpu';
    if (this.#opts.gpu.available) return 'gpu';
    if (this.#opts.strictGpu) throw ofsError('OFS_NO_GPU', model, this.#opts.gpu.reason);
    if (!this.#gpuWarned.has(model)) {
      this.#gpuWarned.add(model);
      this.#opts.log.warn(
        `model '${model}' asks for KIND_GPU but no usable GPU was found (${this.#opts.gpu.reason}); running it on CPU. Start with --strict to refuse instead, as Triton does.`,
      );
    }
    return 'cpu';
  }

  async #unloadModel(name: string): Promise<void> {
    const record = this.#models.get(name);
    if (!record) return;
    this.#models.delete(name);
    await this.#drain(record);
    // A model that never loaded has nothing to unload; saying it was would mislead.
    if (record.versions.length > 0) this.#opts.log.info(`successfully unloaded '${name}'`);
  }

  async #drain(record: ModelRecord): Promise<void> {
    for (const v of record.versions) {
      v.state = 'UNLOADING';
      if (v.served) await v.served.scheduler.stop();
      await Promise.all(v.sessions.map((s) => s.dispose().catch(() => undefined)));
    }
  }
}
