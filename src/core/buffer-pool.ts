/**
 * Large ArrayBuffers reused instead of allocated per request: request bodies (server/http) and inputs on
 * their way to an onnxruntime worker. A fresh 600 KB buffer per request costs page faults and
 * external-memory GC on the server's main thread (measured in bench/README.md); a reused one costs the
 * memcpy that fills it. Bounded: at most `perSize` spare buffers of one size and `maxBytes` in all, so
 * a burst of large or odd-sized requests leaves nothing behind beyond that.
 */
export class BufferPool {
  readonly #spare = new Map<number, ArrayBuffer[]>();
  #bytes = 0;

  constructor(
    readonly perSize = 4,
    readonly maxBytes = 64 * 2 ** 20,
  ) {}

  /** A buffer of exactly `size` bytes (its contents are stale; the caller overwrites all of it). */
  take(size: number): ArrayBuffer {
    const list = this.#spare.get(size);
    const reused = list?.pop();
    if (reused === undefined) return new ArrayBuffer(size);
    this.#bytes -= size;
    if (list?.length === 0) this.#spare.delete(size);
    return reused;
  }

  /** Keeps `buffer` for a later take() when there is room; a detached one (byteLength 0) is ignored. */
  give(buffer: ArrayBuffer): void {
    const size = buffer.byteLength;
    if (size === 0 || this.#bytes + size > this.maxBytes) return;
    const list = this.#spare.get(size) ?? [];
    if (list.length >= this.perSize) return;
    list.push(buffer);
    this.#spare.set(size, list);
    this.#bytes += size;
  }

  /** Bytes held in spare buffers. */
  get bytes(): number {
    return this.#bytes;
  }
}
