import { isOfsError, ofsError } from '../../errors.js';
import type { BackendRegistry, DeviceKind, ModelSource, Session, SessionOptions } from '../backend.js';
import type { ModelConfig } from '../config/model-config.js';
import { intraOpSpinning, intraOpThreads } from '../config/thread-parameters.js';
import type { Logger } from '../log.js';

/**
 * Backend placement: which device and backend each instance of a model runs on. A KIND_GPU group on a
 * machine without a usable GPU, or a model the GPU backend cannot compile, runs on CPU with one warning
 * per model; `--strict` refuses both instead, as Triton does.
 */

export interface GpuInfo {
  readonly available: boolean;
  /** Why (not) — shown in the warning and in OFS_NO_GPU. */
  readonly reason: string;
}

export interface PlacementOptions {
  readonly backends: BackendRegistry;
  readonly gpu: GpuInfo;
  /** Refuse KIND_GPU groups that cannot run on a GPU instead of running them on CPU. */
  readonly strict: boolean;
  readonly log: Logger;
}

/** One instance to create: the config's kind, with the session options apart from the device. */
export interface InstancePlan {
  readonly kind: string;
  readonly gpu?: number;
  readonly threads: number;
  /** parameters["session.intra_op.allow_spinning"]; checked by the config rules. */
  readonly spinning: boolean;
  readonly maxBatch: number;
}

/**
 * The instances of a (normalized) config, in group order. `threads` (the intra-op threads of the
 * machine) is shared among them, at least one each, unless the config sets intra_op_thread_count (as
 * for Triton's onnxruntime backend); an empty instance_group still gives one CPU instance so a model
 * always has a session.
 */
export function planInstances(config: ModelConfig, threads: number): InstancePlan[] {
  const configured = config.instance_group ?? [];
  const groups = configured.length > 0 ? configured : [{ kind: 'KIND_CPU' as const, count: 1 }];
  const total = Math.max(1, groups.reduce((n, g) => n + (g.count ?? 1), 0));
  const asked = intraOpThreads(config);
  const perInstance = (asked.ok ? asked.threads : undefined) ?? Math.max(1, Math.floor(threads / total));
  const spin = intraOpSpinning(config);
  const spinning = spin.ok && spin.spinning;
  const maxBatch = Math.max(1, config.max_batch_size ?? 0);
  const plan: InstancePlan[] = [];
  for (const group of groups) {
    for (let i = 0; i < (group.count ?? 1); i++) {
      const gpu = group.gpus?.[i % (group.gpus.length || 1)];
      plan.push({ kind: group.kind ?? 'KIND_CPU', ...(gpu !== undefined ? { gpu } : {}), threads: perInstance, spinning, maxBatch });
    }
  }
  return plan;
}

export class BackendPlacement {
  readonly #opts: PlacementOptions;
  /** Models already warned about, so a model with 8 instances logs one line, not 8. */
  readonly #warned = new Set<string>();

  constructor(opts: PlacementOptions) {
    this.#opts = opts;
  }

  /** The device an instance of `kind` runs on; throws OFS_NO_GPU for KIND_GPU without a GPU under --strict. */
  deviceFor(model: string, kind: string): DeviceKind {
    if (kind !== 'KIND_GPU') return 'cpu';
    if (this.#opts.gpu.available) return 'gpu';
    if (this.#opts.strict) throw ofsError('OFS_NO_GPU', model, this.#opts.gpu.reason);
    this.#warnOnce(
      model,
      `model '${model}' asks for KIND_GPU but no usable GPU was found (${this.#opts.gpu.reason}); running it on CPU. Start with --strict to refuse instead, as Triton does.`,
    );
    return 'cpu';
  }

  /** Every session of a plan, in order; on a failure the ones already made are disposed. */
  async createSessions(source: ModelSource, plan: readonly InstancePlan[]): Promise<Session[]> {
    const sessions: Session[] = [];
    try {
      for (const instance of plan) {
        const device = this.deviceFor(source.model, instance.kind);
        const options: SessionOptions = { device, threads: instance.threads, spinning: instance.spinning, maxBatch: instance.maxBatch, ...(instance.gpu !== undefined ? { gpu: instance.gpu } : {}) };
        sessions.push(await this.createSession(source, options));
      }
      return sessions;
    } catch (e) {
      await Promise.all(sessions.map((s) => s.dispose().catch(() => undefined)));
      throw e;
    }
  }

  /**
   * A session on the device asked for. A model the GPU backend cannot run (an op outside its subset)
   * runs on CPU with one warning; --strict refuses.
   */
  async createSession(source: ModelSource, options: SessionOptions): Promise<Session> {
    const backend = source.backend ? this.#opts.backends.named(source.backend) : await this.#opts.backends.resolve(options.device);
    try {
      return await backend.createSession(source, options);
    } catch (e) {
      if (options.device !== 'gpu' || this.#opts.strict || !isOfsError(e) || e.code !== 'OFS_NATIVE_UNSUPPORTED') throw e;
      this.#warnOnce(source.model, `model '${source.model}' runs on CPU: the GPU backend cannot run it (${e.message})`);
      const cpu = await this.#opts.backends.resolve('cpu');
      return cpu.createSession(source, { ...options, device: 'cpu' });
    }
  }

  #warnOnce(model: string, message: string): void {
    if (this.#warned.has(model)) return;
    this.#warned.add(model);
    this.#opts.log.warn(message);
  }
}
