import { ofsError } from '../../errors.js';
import type { Session } from '../backend.js';
import type { ModelIndexEntry, ModelState, ServedModel } from '../served-model.js';

/**
 * The life cycle of the models a server holds (after Triton's ModelLifeCycle): the state of every
 * version (READY / UNAVAILABLE / LOADING / UNLOADING), what requests are served from, and one queue per
 * model so that one model's loads and unloads run in the order they were asked while other models'
 * run beside them. It reads no files and creates no sessions: the model manager hands it the results.
 */

export interface VersionRecord {
  readonly version: string;
  /** Mutable only for the move to UNLOADING while a record drains. */
  state: ModelState;
  readonly reason?: string;
  readonly served?: ServedModel;
  readonly sessions: readonly Session[];
}

export interface ModelRecord {
  readonly name: string;
  readonly versions: readonly VersionRecord[];
  /** Set when the model failed before any version could load (bad config, …). */
  readonly failure?: string;
  /** The change-detection fingerprint of the folder this record was loaded from. */
  fingerprint: string;
}

export class ModelLifecycle {
  readonly #models = new Map<string, ModelRecord>();
  /** Versions being loaded, by model; shown as LOADING until the load commits or fails. */
  readonly #loading = new Map<string, readonly string[]>();
  /** The tail of each model's queue; removed when it settles, so the map holds only busy models. */
  readonly #queues = new Map<string, Promise<unknown>>();

  /** Runs `task` after every earlier task of the same model has settled. */
  serialize<T>(name: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(name) ?? Promise.resolve();
    const run = previous.then(task);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#queues.set(name, tail);
    void tail.then(() => {
      if (this.#queues.get(name) === tail) this.#queues.delete(name);
    });
    return run;
  }

  /** Resolves once no model has a task queued or running (including tasks queued meanwhile). */
  async settled(): Promise<void> {
    while (this.#queues.size > 0) await Promise.all([...this.#queues.values()]);
  }

  names(): string[] {
    return [...this.#models.keys()];
  }

  record(name: string): ModelRecord | undefined {
    return this.#models.get(name);
  }

  /** Marks versions of `name` as LOADING (shown in the index beside what is still served). */
  beginLoad(name: string, versions: readonly string[]): void {
    this.#loading.set(name, versions);
  }

  /**
   * Makes `record` the model's served set and returns the one it replaces, which the caller drains:
   * requests move to the new versions at once, so a reload never leaves a gap in service.
   */
  commit(record: ModelRecord): ModelRecord | undefined {
    const previous = this.#models.get(record.name);
    this.#loading.delete(record.name);
    this.#models.set(record.name, record);
    return previous;
  }

  /**
   * A load that failed as a whole. A model still serving keeps its versions (Triton keeps the loaded
   * one too) and only takes the new fingerprint, so the same broken edit is not retried every poll;
   * otherwise the model is recorded UNAVAILABLE with the reason. Returns whether old versions serve on.
   */
  fail(name: string, reason: string, fingerprint: string): boolean {
    this.#loading.delete(name);
    const previous = this.#models.get(name);
    if (previous && previous.versions.some((v) => v.state === 'READY')) {
      previous.fingerprint = fingerprint;
      return true;
    }
    this.#models.set(name, { name, versions: [], failure: reason, fingerprint });
    return false;
  }

  /** Takes the model out of the table (requests see it unknown at once); the caller drains the record. */
  remove(name: string): ModelRecord | undefined {
    const record = this.#models.get(name);
    this.#models.delete(name);
    this.#loading.delete(name);
    return record;
  }

  get(name: string, version?: string): ServedModel {
    const record = this.#models.get(name);
    if (!record) throw ofsError('OFS_MODEL_UNKNOWN', name);
    if (version) {
      const v = record.versions.find((r) => r.version === version);
      if (!v) throw ofsError('OFS_MODEL_VERSION_UNKNOWN', name, version);
      if (!v.served || v.state !== 'READY') throw ofsError('OFS_MODEL_NOT_READY', name);
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
    const names = new Set([...this.#models.keys(), ...this.#loading.keys()]);
    for (const name of [...names].sort((a, b) => a.localeCompare(b))) {
      const record = this.#models.get(name);
      const shown = new Set(record?.versions.map((v) => v.version));
      const loading = (this.#loading.get(name) ?? []).filter((v) => !shown.has(v));
      if (record && record.versions.length === 0 && loading.length === 0) {
        out.push({ name, state: record.failure ? 'UNAVAILABLE' : 'UNKNOWN', ...(record.failure ? { reason: record.failure } : {}) });
      }
      const rows: ModelIndexEntry[] = [
        ...(record?.versions ?? []).map((v) => ({ name, version: v.version, state: v.state, ...(v.reason ? { reason: v.reason } : {}) })),
        ...loading.map((version) => ({ name, version, state: 'LOADING' as const })),
      ];
      out.push(...rows.sort((a, b) => Number(a.version) - Number(b.version)));
    }
    return out;
  }

  /**
   * Triton's strict readiness: every live version (READY, LOADING or UNLOADING) is READY. A model whose
   * load failed (UNAVAILABLE) is not live and is skipped, so one broken model does not take the whole
   * server out of a load balancer; a model still loading does.
   */
  allReady(): boolean {
    return this.index().every((row) => row.state === 'READY' || row.state === 'UNAVAILABLE' || row.state === 'UNKNOWN');
  }

  /**
   * Stops serving a record's versions: each goes UNLOADING, its scheduler finishes the requests it
   * holds, then its sessions are disposed.
   */
  static async drain(record: ModelRecord): Promise<void> {
    for (const v of record.versions) {
      v.state = 'UNLOADING';
      if (v.served) await v.served.scheduler.stop();
      await Promise.all(v.sessions.map((s) => s.dispose().catch(() => undefined)));
    }
  }
}
