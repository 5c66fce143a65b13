/**
 * Large ArrayBuffers reused instead of allocated per request: request bodies (server/http) and inputs on
 * their way to an onnxruntime worker. A fresh 600 KB buffer per request costs page faults and
 * external-memory GC on the server's main thread (measured in bench/README.md); a reused one costs the
 * memcpy that fills it. Capacities are rounded up to `step`, so sizes that differ a little (a JSON
 * header's length, a batch of 3 or 4) share buffers; the caller uses a prefix. Bounded: at most `perSize`
 * spare buffers of one capacity and `maxBytes` in all, so a burst of large or odd-sized requests leaves
 * nothing behind beyond that.
 */
export class BufferPool {
  readonly #spare = new Map<number, ArrayBuffer[]>();
  #bytes = 0;

  constructor(
    readonly perSize = 2,
    readonly maxBytes = 16 * 2 ** 20,
    readonly step = 64 * 1024,
  ) {}

  /** A buffer of at least `size` bytes, `size` rounded up to the step (stale contents: the caller overwrites what it uses). */
  take(size: number): ArrayBuffer {
    const capacity = Math.max(this.step, Math.ceil(size / this.step) * this.step);
    const list = this.#spare.get(capacity);
    const reused = list?.pop();
    if (reused === undefined) return new ArrayBuffer(capacity);
    this.#bytes -= capacity;
    if (list?.length === 0) this.#spare.delete(capacity);
    return reused;
  }

  /** Keeps `buffer` for a later take() when there is room; one not from take() (detached, other size) is ignored. */
  give(buffer: ArrayBuffer): void {
    const size = buffer.byteLength;
    if (size === 0 || size % this.step !== 0 || this.#bytes + size > this.maxBytes) return;
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
