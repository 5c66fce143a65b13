import type { IncomingMessage, ServerResponse } from 'node:http';
import { BufferPool } from '../../core/buffer-pool.js';

/**
 * Large request bodies are joined into buffers from a pool instead of one fresh 600 KB allocation per
 * request (bench/README.md, "serving overhead"), once the whole body has arrived: a client that declares
 * a large Content-Length and sends little holds only what it sent. A body's tensors are views into its
 * buffer, so the
 * buffer goes back to the pool only when both the route handler has finished (every scheduler is
 * done with the request: they settle only once nothing reads its inputs) and the response is closed
 * (a streamed response may still be writing). A request whose handler never runs (404, a body error)
 * just lets its buffer be collected.
 */

/** Bodies smaller than this are cheap to allocate; pooling them would only fragment the pool. */
export const POOLED_BODY_MIN = 64 * 1024;

export class BodyLease {
  readonly #buffer: ArrayBuffer;
  readonly #pool: BufferPool;
  readonly #pending = new Set<'handler' | 'response'>(['handler', 'response']);

  constructor(buffer: ArrayBuffer, pool: BufferPool) {
    this.#buffer = buffer;
    this.#pool = pool;
  }

  /** Counts the response as closed once `res` closes (at once if it already has). */
  watch(res: ServerResponse): void {
    if (res.closed) this.release('response');
    else res.once('close', () => this.release('response'));
  }

  release(party: 'handler' | 'response'): void {
    if (!this.#pending.delete(party) || this.#pending.size > 0) return;
    this.#pool.give(this.#buffer);
  }
}

export class BodyBuffers {
  readonly #pool: BufferPool;
  readonly #leases = new WeakMap<IncomingMessage, BodyLease>();

  /** `maxBytes`: most bytes kept in spare body buffers. */
  constructor(maxBytes = 64 * 2 ** 20) {
    // Several bodies are read at once under concurrency: more spares than a session's staging pool.
    this.#pool = new BufferPool(8, maxBytes);
  }

  /** A buffer for a body of `size` bytes, or undefined when the body is too small to pool. */
  take(size: number): ArrayBuffer | undefined {
    if (size < POOLED_BODY_MIN) return undefined;
    return this.#pool.take(size);
  }

  /** A buffer that was never handed to a request (the body failed to arrive). */
  giveBack(buffer: ArrayBuffer): void {
    this.#pool.give(buffer);
  }

  /** The body of `req` now lives in `buffer`: lease it until the handler and the response are done. */
  lend(req: IncomingMessage, buffer: ArrayBuffer): void {
    this.#leases.set(req, new BodyLease(buffer, this.#pool));
  }

  lease(req: IncomingMessage): BodyLease | undefined {
    return this.#leases.get(req);
  }
}
