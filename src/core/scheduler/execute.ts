import { isOfsError, ofsError } from '../../errors.js';
import type { Session } from '../backend.js';
import type { ModelStats } from '../stats/model-stats.js';
import type { Tensor } from '../tensor/tensor.js';
import { concatBatch, splitBatch } from './batch.js';
import type { InferRequest, InferResult } from './scheduler.js';

/** A request accepted by a scheduler, waiting for its execution. */
export interface Pending {
  readonly request: InferRequest;
  /** When the scheduler queued it: queue time runs from here to the execution start (as Triton). */
  readonly enqueuedNs: bigint;
  readonly resolve: (result: InferResult) => void;
  readonly reject: (error: Error) => void;
}

export type Clock = () => bigint;
export const hrClock: Clock = () => process.hrtime.bigint();

function sameOutputs(batch: readonly Pending[]): readonly string[] | undefined {
  const first = batch[0].request.outputs;
  if (!first) return undefined;
  const key = first.join('\0');
  return batch.every((p) => p.request.outputs?.join('\0') === key) ? first : undefined;
}

function pick(outputs: Tensor[], names: readonly string[] | undefined): Tensor[] {
  if (!names) return outputs;
  return names.map((n) => {
    const t = outputs.find((o) => o.name === n);
    if (!t) throw ofsError('OFS_BACKEND_FAILED', `the model did not produce output '${n}'`);
    return t;
  });
}

/**
 * Runs one execution of `batch` on `session`: concatenates inputs, runs, splits outputs, records the
 * execution and each request's outcome in `stats`, and settles every request. Never throws.
 */
export async function execute(session: Session, batch: readonly Pending[], stats: ModelStats, now: Clock): Promise<void> {
  const start = now();
  try {
    const inputs = concatBatch(batch.map((p) => p.request.inputs));
    // Requests asking for different outputs share one run of all outputs; each then gets its own.
    const names = sameOutputs(batch);
    const ran = now();
    const outputs = await session.run(inputs, names);
    const inferred = now();
    const perRequest =
      batch.length === 1 ? [outputs] : splitBatch(outputs, batch.map((p) => p.request.batchSize));
    const results = batch.map((p, i) => pick(perRequest[i], p.request.outputs));
    const done = now();
    const compute = { inputNs: Number(ran - start), inferNs: Number(inferred - ran), outputNs: Number(done - inferred) };
    const items = batch.reduce((n, p) => n + p.request.batchSize, 0);
    stats.recordExecution(items, compute.inputNs, compute.inferNs, compute.outputNs);
    batch.forEach((p, i) => {
      stats.recordSuccess(Number(done - p.request.receivedNs), Number(start - p.enqueuedNs), compute);
      stats.requestFinished();
      p.resolve({ outputs: results[i], timing: { queueNs: Number(start - p.enqueuedNs), compute } });
    });
  } catch (e) {
    const error = isOfsError(e) ? e : ofsError('OFS_BACKEND_FAILED', e instanceof Error ? e.message : String(e));
    const end = now();
    for (const p of batch) {
      stats.recordFailure(Number(end - p.request.receivedNs), 'BACKEND');
      stats.requestFinished();
      p.reject(error);
    }
  }
}

/** Accepting/draining bookkeeping shared by the schedulers. */
export class Drain {
  #inflight = 0;
  #stopping = false;
  #waiters: (() => void)[] = [];

  get stopping(): boolean {
    return this.#stopping;
  }

  inflight(): number {
    return this.#inflight;
  }

  /** Counts a request in, or throws OFS_SERVER_SHUTTING_DOWN (recorded as REJECTED) once stopping. */
  admit(request: InferRequest, stats: ModelStats, now: Clock): void {
    if (this.#stopping) {
      stats.recordFailure(Number(now() - request.receivedNs), 'REJECTED');
      throw ofsError('OFS_SERVER_SHUTTING_DOWN');
    }
    this.#inflight += 1;
    stats.requestStarted();
  }

  /**
   * Wraps an admitted request so it counts out just before its caller sees the result, and so a
   * client that goes away while it is queued (`request.signal` aborts) has it taken off the queue by
   * `dequeue` and rejected as cancelled. `dequeue` returns false once the request is executing.
   */
  track(pending: Pending, stats: ModelStats, now: Clock, dequeue: (p: Pending) => boolean): Pending {
    const signal = pending.request.signal;
    const onAbort = (): void => {
      if (!dequeue(tracked)) return;
      stats.recordFailure(Number(now() - pending.request.receivedNs), 'CANCELED');
      stats.requestFinished();
      tracked.reject(ofsError('OFS_REQUEST_CANCELLED'));
    };
    const out = (): void => {
      signal?.removeEventListener('abort', onAbort);
      this.#inflight -= 1;
      if (this.#inflight === 0) for (const w of this.#waiters.splice(0)) w();
    };
    let settled = false;
    const tracked: Pending = {
      ...pending,
      resolve: (r) => {
        if (settled) return;
        settled = true;
        out();
        pending.resolve(r);
      },
      reject: (e) => {
        if (settled) return;
        settled = true;
        out();
        pending.reject(e);
      },
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    return tracked;
  }

  /**
   * admit + track in one: resolves with the request's result once `start` (given the tracked pending
   * request and its enqueue time) has had it executed; rejects at once when stopping or when the
   * client has already gone. `dequeue` takes a still-queued request off the scheduler's queue.
   */
  accept(
    request: InferRequest,
    stats: ModelStats,
    now: Clock,
    start: (pending: Pending, enqueuedNs: bigint) => void,
    dequeue: (pending: Pending) => boolean,
  ): Promise<InferResult> {
    if (request.signal?.aborted) {
      stats.recordFailure(Number(now() - request.receivedNs), 'CANCELED');
      return Promise.reject(ofsError('OFS_REQUEST_CANCELLED'));
    }
    try {
      this.admit(request, stats, now);
    } catch (e) {
      return Promise.reject(e);
    }
    const enqueuedNs = now();
    return new Promise<InferResult>((resolve, reject) =>
      start(this.track({ request, enqueuedNs, resolve, reject }, stats, now, dequeue), enqueuedNs),
    );
  }

  stop(): Promise<void> {
    this.#stopping = true;
    if (this.#inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
