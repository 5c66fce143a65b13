import { createHash } from 'node:crypto';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Triton's `local` response cache: inference results by a hash of the request, shared by every model
 * that enables `response_cache`, least recently used first out, bounded by a size in bytes
 * (tritonserver's `--cache-config local,size=BYTES`). No I/O, no clock.
 */

/** What the key is made of; see responseCacheKey. */
export interface CacheKeyRequest {
  readonly inputs: readonly Tensor[];
  /** Requested output names; undefined = all outputs. */
  readonly outputs?: readonly string[];
}

/**
 * The key: SHA-256 over the model instance (`owner`: model, version and which load of it, so a reload
 * with new weights never answers from the old ones), every input's name, datatype, shape and bytes
 * (sorted by name: input order does not change the result) and the requested output names (sorted).
 * Classification (`class_count`) and the wire encoding (`binary_data`) are applied to the cached
 * tensors after a hit, so they need not be part of it. Every field is length-prefixed, so no two
 * different requests share the hashed byte stream; with a 256-bit hash, unlike Triton's 64-bit one,
 * a collision is not a practical concern.
 */
export function responseCacheKey(owner: string, request: CacheKeyRequest): string {
  const h = createHash('sha256');
  const u32 = Buffer.alloc(4);
  const part = (bytes: Uint8Array | string): void => {
    const b = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    u32.writeUInt32LE(b.length >>> 0);
    h.update(u32);
    h.update(b);
  };
  part(owner);
  const inputs = [...request.inputs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  part(String(inputs.length));
  for (const t of inputs) {
    part(t.name);
    part(t.datatype);
    part(t.shape.join(','));
    part(t.data);
  }
  part(request.outputs ? [...request.outputs].sort().map((n) => `${n.length}:${n}`).join('') : '*');
  return h.digest('base64');
}

interface Entry {
  readonly owner: string;
  readonly outputs: readonly Tensor[];
  readonly bytes: number;
}

/** Bookkeeping per entry beyond the tensor bytes (key, names, shapes, objects): an estimate. */
const ENTRY_OVERHEAD = 256;

function entryBytes(outputs: readonly Tensor[]): number {
  return outputs.reduce((n, t) => n + t.data.byteLength + t.name.length + t.shape.length * 8 + 64, ENTRY_OVERHEAD);
}

export interface ResponseCacheStats {
  readonly entries: number;
  readonly bytes: number;
  readonly capacityBytes: number;
  readonly evictions: number;
}

export class ResponseCache {
  readonly capacityBytes: number;
  /** Map order is recency order: the first entry is the least recently used. */
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  #evictions = 0;

  constructor(capacityBytes: number) {
    this.capacityBytes = capacityBytes;
  }

  /** The cached outputs for `key` (now the most recently used), or undefined. */
  lookup(key: string): readonly Tensor[] | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, e);
    return e.outputs;
  }

  /**
   * Stores a copy of `outputs` (they may be views into a whole batch's buffer, which must not be kept
   * alive), evicting least recently used entries to make room. A result larger than the whole cache
   * is not stored; returns whether it was.
   */
  insert(key: string, owner: string, outputs: readonly Tensor[]): boolean {
    if (this.#entries.has(key)) return true;
    const bytes = entryBytes(outputs);
    if (bytes > this.capacityBytes) return false;
    while (this.#bytes + bytes > this.capacityBytes) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#remove(oldest.value);
      this.#evictions += 1;
    }
    const copy = outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: [...t.shape], data: t.data.slice() }));
    this.#entries.set(key, { owner, outputs: copy, bytes });
    this.#bytes += bytes;
    return true;
  }

  /** Drops every entry of one model instance (it was unloaded). */
  dropOwner(owner: string): void {
    for (const [key, e] of this.#entries) if (e.owner === owner) this.#remove(key);
  }

  #remove(key: string): void {
    const e = this.#entries.get(key);
    if (!e) return;
    this.#entries.delete(key);
    this.#bytes -= e.bytes;
  }

  stats(): ResponseCacheStats {
    return { entries: this.#entries.size, bytes: this.#bytes, capacityBytes: this.capacityBytes, evictions: this.#evictions };
  }
}
