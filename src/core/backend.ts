import { ofsError, toOfsError } from '../errors.js';
import type { Graph, ValueInfo } from './graph/ir.js';
import type { ModelConfig } from './config/model-config.js';
import type { Tensor } from './tensor/tensor.js';

/**
 * The interface every execution backend implements (onnxruntime on CPU, the native GPU backend), after
 * onnxruntime-common's Backend/InferenceSessionHandler split: core never imports a concrete backend;
 * `commands/serve.ts` registers them.
 */

/** What a backend gets to build a session from. */
export interface ModelSource {
  readonly model: string;
  readonly version: string;
  readonly graph: Graph;
  /** The original ONNX bytes when the payload was an ONNX file (saves re-serializing it). */
  readonly onnx?: Uint8Array;
  /**
   * A built-in backend the config names (`backend: "image_preprocess"`): the session is created by
   * that backend, found by name, rather than by device. Such models have no payload; `graph` then only
   * describes their IO, and the backend reads its settings from `config`.
   */
  readonly backend?: string;
  readonly config?: ModelConfig;
}

export type DeviceKind = 'cpu' | 'gpu';

export interface SessionOptions {
  readonly device: DeviceKind;
  /** GPU ordinal when device is 'gpu'. */
  readonly gpu?: number;
  /** Intra-op threads for this session (0 = backend default). */
  readonly threads?: number;
  /**
   * Let the intra-op threads spin between operators while a run is in progress; they stop spinning as
   * soon as it returns (onnxruntime). Default false; backends without such threads ignore it.
   */
  readonly spinning?: boolean;
  /**
   * The largest batch one run() will carry (the model's max_batch_size, or 1 when it does not batch).
   * Backends that preallocate per batch size (the native GPU backend) size their buffers by it; others
   * ignore it. Default: backend-specific (8 for the native backend).
   */
  readonly maxBatch?: number;
}

export interface Session {
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  /**
   * Runs one (possibly batched) execution. Inputs carry concrete shapes; returns the requested outputs
   * (all of them when `outputNames` is undefined) in the order asked. Must not block the event loop.
   */
  run(inputs: readonly Tensor[], outputNames?: readonly string[]): Promise<Tensor[]>;
  dispose(): Promise<void>;
}

export interface Backend {
  readonly name: string;
  /** Devices this backend can run on here; resolved once, lazily. */
  devices(): Promise<readonly DeviceKind[]>;
  createSession(source: ModelSource, options: SessionOptions): Promise<Session>;
}

interface Registered {
  readonly backend: Backend;
  readonly priority: number;
}

/** Backends by priority (highest first); resolution tries each and reports every failure at once. */
export class BackendRegistry {
  readonly #list: Registered[] = [];
  readonly #named = new Map<string, Backend>();

  /** A built-in backend that runs only the models whose config names it (never picked by device). */
  registerNamed(backend: Backend): void {
    this.#named.set(backend.name, backend);
  }

  named(name: string): Backend {
    const backend = this.#named.get(name);
    if (!backend) throw ofsError('OFS_BACKEND_UNKNOWN', name);
    return backend;
  }

  register(backend: Backend, priority: number): void {
    this.#list.push({ backend, priority });
    this.#list.sort((a, b) => b.priority - a.priority);
  }

  names(): string[] {
    return this.#list.map((r) => r.backend.name);
  }

  /**
   * The first backend (by priority) that runs on `device`. Throws one error naming every backend tried
   * and why it was passed over.
   */
  async resolve(device: DeviceKind): Promise<Backend> {
    const failures: string[] = [];
    for (const { backend } of this.#list) {
      try {
        const devices = await backend.devices();
        if (devices.includes(device)) return backend;
        failures.push(`${backend.name}: does not run on ${device}`);
      } catch (e) {
        failures.push(`${backend.name}: ${toOfsError(e).message}`);
      }
    }
    throw ofsError('OFS_NO_BACKEND', device, failures.length ? failures.join('; ') : 'no backend registered');
  }
}
