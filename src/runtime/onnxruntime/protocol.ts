import type { Tensor } from '../../core/tensor/tensor.js';

/**
 * Messages between an OrtSession (main thread) and its worker. Tensors travel in their wire form
 * (little-endian bytes + shape); each side transfers the ArrayBuffers it created, never a caller's. Input
 * buffers make a round trip: the session stages inputs in them, the worker hands them back with the reply.
 */

/** `workerData` of the worker: how many threads its session may use, and whether they spin during runs. */
export interface WorkerConfig {
  readonly intraOpThreads: number;
  readonly spinning?: boolean;
}

/**
 * The first message: the model bytes. Not in workerData, which a worker keeps referenced for its whole
 * life (a second copy of every weight per instance); a message is garbage once the session is built.
 */
export interface LoadMessage {
  readonly type: 'load';
  readonly model: Uint8Array;
}

export type ToWorker =
  | { readonly type: 'run'; readonly id: number; readonly inputs: readonly Tensor[]; readonly outputNames?: readonly string[] }
  /** Release the ORT session (its native memory is not reclaimed by terminate()) and exit. */
  | { readonly type: 'close' };

/** `inputs`: the run's input buffers, transferred back so the session can reuse them (BufferPool). */
export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'load-failed'; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly outputs: readonly Tensor[]; readonly inputs: readonly ArrayBuffer[] }
  | { readonly type: 'run-failed'; readonly id: number; readonly message: string; readonly inputs: readonly ArrayBuffer[] };
