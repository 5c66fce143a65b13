import { ofsError, type OfsError } from '../../errors.js';
import type { Session } from '../../core/backend.js';
import type { ValueInfo } from '../../core/graph/ir.js';
import type { Tensor } from '../../core/tensor/tensor.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { BufferPool } from '../../core/buffer-pool.js';

/** The part of worker_threads.Worker a session uses; tests substitute a fake to crash it at will. */
export interface WorkerLike {
  postMessage(msg: ToWorker, transfer?: readonly ArrayBuffer[]): void;
  on(event: 'message', listener: (msg: FromWorker) => void): unknown;
  on(event: 'error', listener: (e: Error) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  terminate(): Promise<number>;
}

interface Pending {
  resolve(outputs: Tensor[]): void;
  reject(e: OfsError): void;
}

/** How long dispose() lets the worker release its session before terminating it. */
const CLOSE_GRACE_MS = 5000;

/**
 * Copies a caller's tensor into a staging buffer of the session's own. Transferring the caller's
 * ArrayBuffer instead would detach it under them, and request tensors are usually views into one larger
 * body buffer; the copy also fixes alignment, and into a reused buffer it costs a memcpy, far less than
 * the inference it feeds.
 */
function stagedCopy(t: Tensor, pool: BufferPool): Tensor {
  const data = new Uint8Array(pool.take(t.data.byteLength), 0, t.data.byteLength);
  data.set(t.data);
  return { name: t.name, datatype: t.datatype, shape: [...t.shape], data };
}

export class OrtSession implements Session {
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly #worker: WorkerLike;
  readonly #pending = new Map<number, Pending>();
  /** One run executes at a time per session: the pool's defaults (two spares per capacity) cover the next request. */
  readonly #staging = new BufferPool();
  #nextId = 1;
  /** Set once the worker is gone; every later run() rejects with it. */
  #dead: OfsError | undefined;
  #exited: Promise<void>;

  constructor(worker: WorkerLike, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[]) {
    this.#worker = worker;
    this.inputs = inputs;
    this.outputs = outputs;
    worker.on('message', (msg) => this.#onMessage(msg));
    worker.on('error', (e) => this.#fail(`onnxruntime worker crashed: ${e.message}`));
    this.#exited = new Promise((resolve) => {
      worker.on('exit', (code) => {
        this.#fail(`onnxruntime worker exited with code ${code}`);
        resolve();
      });
    });
  }

  run(inputs: readonly Tensor[], outputNames?: readonly string[]): Promise<Tensor[]> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    const owned = inputs.map((t) => stagedCopy(t, this.#staging));
    return new Promise<Tensor[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      const msg: ToWorker = { type: 'run', id, inputs: owned, ...(outputNames ? { outputNames: [...outputNames] } : {}) };
      try {
        this.#worker.postMessage(msg, owned.map((t) => t.data.buffer as ArrayBuffer));
      } catch (e) {
        this.#pending.delete(id);
        reject(ofsError('OFS_BACKEND_FAILED', e instanceof Error ? e.message : String(e)));
      }
    });
  }

  async dispose(): Promise<void> {
    if (this.#dead) return;
    this.#fail('the session was unloaded');
    this.#worker.postMessage({ type: 'close' });
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), CLOSE_GRACE_MS)));
    const how = await Promise.race([this.#exited.then(() => 'exited' as const), grace]);
    clearTimeout(timer);
    if (how === 'timeout') await this.#worker.terminate();
  }

  #onMessage(msg: FromWorker): void {
    if (msg.type !== 'result' && msg.type !== 'run-failed') return;
    for (const buffer of msg.inputs) this.#staging.give(buffer);
    const pending = this.#pending.get(msg.id);
    if (!pending) return;
    this.#pending.delete(msg.id);
    if (msg.type === 'result') pending.resolve([...msg.outputs]);
    else pending.reject(ofsError('OFS_BACKEND_FAILED', msg.message));
  }

  #fail(why: string): void {
    this.#dead ??= ofsError('OFS_BACKEND_FAILED', why);
    for (const p of this.#pending.values()) p.reject(this.#dead);
    this.#pending.clear();
  }
}
