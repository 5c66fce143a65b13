import { ofsError, type OfsError } from '../../errors.js';
import type { Session } from '../../core/backend.js';
import type { ValueInfo } from '../../core/graph/ir.js';
import type { Tensor } from '../../core/tensor/tensor.js';
import type { NativeBinding, NativeSessionHandle } from './binding.js';

export interface NativeSessionInit {
  readonly binding: NativeBinding;
  readonly handle: NativeSessionHandle;
  /** The graph's declared input and output (one each). */
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  /** Per-sample shapes, batch excluded: [C,H,W] and e.g. [1000]. */
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  /** The largest batch the addon prepared for; larger requests run in slices of it. */
  readonly maxBatch: number;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Float32 view of little-endian tensor bytes (Node runs on little-endian hosts only). Request tensors
 * are often views into a larger body at any offset, so an unaligned one is copied.
 */
function float32Of(data: Uint8Array, offset: number, count: number): Float32Array {
  const byteOffset = data.byteOffset + offset * 4;
  if (byteOffset % 4 === 0) return new Float32Array(data.buffer, byteOffset, count);
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(data.subarray(offset * 4, (offset + count) * 4));
  return out;
}

/** One model instance on one GPU: a handle to the addon's session, run through the binding. */
export class NativeSession implements Session {
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly #init: NativeSessionInit;
  readonly #inFlight = new Set<Promise<unknown>>();
  #disposing: Promise<void> | undefined;

  constructor(init: NativeSessionInit) {
    this.#init = init;
    this.inputs = init.inputs;
    this.outputs = init.outputs;
  }

  run(inputs: readonly Tensor[], outputNames?: readonly string[]): Promise<Tensor[]> {
    if (this.#disposing) return Promise.reject(ofsError('OFS_BACKEND_FAILED', 'the session was unloaded'));
    let batch: number;
    try {
      batch = this.#check(inputs, outputNames);
    } catch (e) {
      return Promise.reject(e);
    }
    const running = this.#execute(inputs[0] as Tensor, batch, outputNames);
    this.#inFlight.add(running);
    const forget = (): void => void this.#inFlight.delete(running);
    running.then(forget, forget);
    return running;
  }

  /** Releases the GPU memory once, after the runs already started have finished. */
  dispose(): Promise<void> {
    this.#disposing ??= (async () => {
      await Promise.allSettled([...this.#inFlight]);
      try {
        this.#init.binding.releaseSession(this.#init.handle);
      } catch (e) {
        throw ofsError('OFS_BACKEND_FAILED', `releasing the GPU session: ${e instanceof Error ? e.message : String(e)}`);
      }
    })();
    return this.#disposing;
  }

  /** Validates the request and returns its batch size. */
  #check(inputs: readonly Tensor[], outputNames: readonly string[] | undefined): number {
    const { inputShape } = this.#init;
    const expected = this.inputs[0] as ValueInfo;
    const bad = (what: string): OfsError => ofsError('OFS_INFER_INPUT', what);
    if (inputs.length !== 1 || inputs[0]?.name !== expected.name) {
      throw bad(`expected exactly one input '${expected.name}', got ${inputs.length ? inputs.map((t) => `'${t.name}'`).join(', ') : 'none'}`);
    }
    const t = inputs[0];
    if (t.datatype !== 'FP32') throw bad(`input '${t.name}' has datatype ${t.datatype}; the native GPU backend takes FP32 only`);
    const [batch = 0, ...sample] = t.shape;
    if (t.shape.length !== inputShape.length + 1 || sample.some((d, i) => d !== inputShape[i]) || !Number.isInteger(batch) || batch < 1) {
      throw bad(`input '${t.name}' has shape [${t.shape.join(',')}], expected [N,${inputShape.join(',')}] with N ≥ 1`);
    }
    if (t.data.byteLength !== batch * size(inputShape) * 4) {
      throw bad(`input '${t.name}' holds ${t.data.byteLength} bytes; shape [${t.shape.join(',')}] of FP32 needs ${batch * size(inputShape) * 4}`);
    }
    const output = (this.outputs[0] as ValueInfo).name;
    const unknown = outputNames?.find((n) => n !== output);
    if (unknown !== undefined) throw ofsError('OFS_INFER_OUTPUT', `unexpected inference output '${unknown}'; the model's output is '${output}'`);
    return batch;
  }

  async #execute(input: Tensor, batch: number, outputNames: readonly string[] | undefined): Promise<Tensor[]> {
    const { inputShape, outputShape, maxBatch } = this.#init;
    const inSize = size(inputShape);
    const outSize = size(outputShape);
    if (batch <= maxBatch) return this.#outputs(await this.#runSlice(input, 0, batch, inSize, outSize), batch, outputNames);
    // The addon sized its buffers for maxBatch: a larger request runs in slices, one after another.
    const result = new Float32Array(batch * outSize);
    for (let start = 0; start < batch; start += maxBatch) {
      const n = Math.min(maxBatch, batch - start);
      result.set(await this.#runSlice(input, start, n, inSize, outSize), start * outSize);
    }
    return this.#outputs(result, batch, outputNames);
  }

  async #runSlice(input: Tensor, start: number, n: number, inSize: number, outSize: number): Promise<Float32Array> {
    const { binding, handle } = this.#init;
    let out: Float32Array;
    try {
      out = await binding.run(handle, float32Of(input.data, start * inSize, n * inSize), n);
    } catch (e) {
      throw ofsError('OFS_BACKEND_FAILED', `native GPU backend: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!(out instanceof Float32Array) || out.length !== n * outSize) {
      const got = out instanceof Float32Array ? `${out.length} values` : typeof out;
      throw ofsError('OFS_BACKEND_FAILED', `native GPU backend returned ${got} for ${n} × ${outSize}`);
    }
    return out;
  }

  #outputs(values: Float32Array, batch: number, outputNames: readonly string[] | undefined): Tensor[] {
    const name = (this.outputs[0] as ValueInfo).name;
    const tensor: Tensor = {
      name,
      datatype: 'FP32',
      shape: [batch, ...this.#init.outputShape],
      data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    };
    return (outputNames ?? [name]).map(() => tensor);
  }
}
