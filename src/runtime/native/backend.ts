import { ofsError, toOfsError } from '../../errors.js';
import type { Backend, DeviceKind, ModelSource, Session, SessionOptions } from '../../core/backend.js';
import type { NativeBinding, NativeDeviceInfo, NativeSessionHandle } from './binding.js';
import { compilePlan } from './compile-plan.js';
import { NativeSession } from './session.js';

/** Batch size the addon prepares for when the caller does not say (SessionOptions.maxBatch). */
export const DEFAULT_MAX_BATCH = 8;

type InitResult = { readonly devices: readonly NativeDeviceInfo[] } | { readonly error: string };

/**
 * The native CUDA backend: compiles each model to a plan (compile-plan.ts) and hands it to the addon.
 * The binding is injected (loader.ts loads the real one), so everything above the addon is tested on
 * CPU with a binding that interprets plans in JavaScript.
 */
export class NativeBackend implements Backend {
  readonly name = 'native';
  readonly #binding: NativeBinding;
  #init: InitResult | undefined;

  constructor(binding: NativeBinding) {
    this.#binding = binding;
  }

  async devices(): Promise<readonly DeviceKind[]> {
    const init = this.#initOnce();
    return 'devices' in init && init.devices.length > 0 ? ['gpu'] : [];
  }

  async createSession(source: ModelSource, options: SessionOptions): Promise<Session> {
    const refuse = (why: string) => ofsError('OFS_SESSION_CREATE_FAILED', source.model, source.version, this.name, why);
    if (options.device !== 'gpu') throw refuse(`it runs on gpu only, not ${options.device}`);
    const init = this.#initOnce();
    if ('error' in init) throw refuse(`CUDA is not usable: ${init.error}`);
    const gpu = options.gpu ?? 0;
    if (!init.devices.some((d) => d.ordinal === gpu)) {
      const seen = init.devices.map((d) => `${d.ordinal} (${d.name})`).join(', ') || 'none';
      throw refuse(`there is no GPU ${gpu}; devices: ${seen}`);
    }
    const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw refuse(`maxBatch must be a positive integer, got ${maxBatch}`);

    const { plan, weights, inputShape, outputShape } = compilePlan(source.graph);
    let handle: NativeSessionHandle;
    try {
      handle = this.#binding.createSession(JSON.stringify(plan), weights, gpu, maxBatch);
    } catch (e) {
      throw refuse(toOfsError(e).message);
    }
    return new NativeSession({
      binding: this.#binding,
      handle,
      inputs: source.graph.inputs,
      outputs: source.graph.outputs,
      inputShape,
      outputShape,
      maxBatch,
    });
  }

  /** init() loads CUDA and lists devices: once per backend, its failure remembered. */
  #initOnce(): InitResult {
    if (!this.#init) {
      try {
        this.#init = { devices: this.#binding.init().devices };
      } catch (e) {
        this.#init = { error: e instanceof Error ? e.message : String(e) };
      }
    }
    return this.#init;
  }
}
