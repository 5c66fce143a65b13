import { setImmediate as nextTurn } from 'node:timers/promises';
import { ofsError } from '../errors.js';
import { dtypeFromWire, elementCount } from '../core/tensor/dtype.js';
import { parseBytesElements } from '../core/tensor/bytes.js';
import type { Tensor } from '../core/tensor/tensor.js';
import { bfloat16ToNumber, halfToNumber } from '../core/tensor/half.js';

/**
 * Response JSON written straight into fixed-size Buffers: a tensor's `data` never becomes an array
 * of JS values or one giant string, the running size is checked against a limit as it grows (so an
 * oversized response costs at most the limit), and long tensors yield to the event loop.
 */

/**
 * Chunks start small and double up to CHUNK: most responses are a few hundred bytes of JSON, and a
 * 1 MB allocation for each of them was an mmap, a munmap and 1 MB of external memory for the GC to
 * account per request (bench/README.md, "serving overhead").
 */
const FIRST_CHUNK = 16 * 1024;
const CHUNK = 1024 * 1024;
const ELEMENTS_PER_TURN = 1 << 18;

export class ChunkWriter {
  readonly #chunks: Buffer[] = [];
  #buf: Buffer = Buffer.allocUnsafe(FIRST_CHUNK);
  #pos = 0;
  #total = 0;
  readonly #limit: number;
  /** Called (and expected to throw) when the text grows past the limit. */
  readonly #overflow: () => never;

  constructor(limit: number, overflow: () => never) {
    this.#limit = limit;
    this.#overflow = overflow;
  }

  get length(): number {
    return this.#total;
  }

  /** Writes text that is ASCII only (numbers, literals, punctuation). */
  ascii(text: string): void {
    const n = text.length;
    if (this.#pos + n > this.#buf.length) this.#flush(n);
    this.#buf.write(text, this.#pos, 'latin1');
    this.#pos += n;
    this.#grow(n);
  }

  byte(c: number): void {
    if (this.#pos >= this.#buf.length) this.#flush(1);
    this.#buf[this.#pos++] = c;
    this.#grow(1);
  }

  /** Writes any text as UTF-8. */
  text(text: string): void {
    const n = Buffer.byteLength(text, 'utf8');
    if (this.#pos + n > this.#buf.length) this.#flush(n);
    this.#buf.write(text, this.#pos, 'utf8');
    this.#pos += n;
    this.#grow(n);
  }

  #grow(n: number): void {
    this.#total += n;
    if (this.#total > this.#limit) this.#overflow();
  }

  #flush(need: number): void {
    if (this.#pos > 0) this.#chunks.push(this.#buf.subarray(0, this.#pos));
    this.#buf = Buffer.allocUnsafe(Math.max(Math.min(CHUNK, this.#buf.length * 2), need));
    this.#pos = 0;
  }

  /** The text written, as chunks in order. */
  finish(): Buffer[] {
    if (this.#pos > 0) this.#chunks.push(this.#buf.subarray(0, this.#pos));
    this.#buf = Buffer.alloc(0);
    this.#pos = 0;
    return this.#chunks;
  }
}

function numberText(v: number): string {
  // JSON has no NaN/Infinity; null becomes NaN again in numpy's float arrays (what tritonclient builds).
  return Number.isFinite(v) ? String(v) : 'null';
}

/**
 * Writes the flat JSON array of a tensor's data. INT64/UINT64 beyond 2^53 come out exact, as Triton
 * writes them.
 */
export async function writeTensorJson(w: ChunkWriter, tensor: Tensor): Promise<void> {
  const { datatype, data } = tensor;
  const count = elementCount(tensor.shape);
  const mismatch = () => ofsError('OFS_BACKEND_FAILED', `output tensor shape does not match size of output for '${tensor.name}'`);
  w.byte(0x5b);
  if (datatype === 'BYTES') {
    const items = parseBytesElements(data);
    if (!items) throw ofsError('OFS_BACKEND_FAILED', 'malformed BYTES tensor');
    if (items.length !== count) throw mismatch();
    const decoder = new TextDecoder();
    items.forEach((item, i) => {
      if (i > 0) w.byte(0x2c);
      w.text(JSON.stringify(decoder.decode(item)));
    });
    w.byte(0x5d);
    return;
  }
  const info = dtypeFromWire(datatype);
  if (!info) throw ofsError('OFS_INTERNAL', `invalid datatype ${datatype}`);
  if (Math.floor(data.length / info.itemSize) !== count) throw mismatch();
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const size = info.itemSize;
  let untilYield = ELEMENTS_PER_TURN;
  for (let i = 0; i < count; i++) {
    if (i > 0) w.byte(0x2c);
    const at = i * size;
    switch (datatype) {
      case 'BOOL': w.ascii(data[at] !== 0 ? 'true' : 'false'); break;
      case 'UINT8': w.ascii(String(data[at])); break;
      case 'INT8': w.ascii(String(view.getInt8(at))); break;
      case 'UINT16': w.ascii(String(view.getUint16(at, true))); break;
      case 'INT16': w.ascii(String(view.getInt16(at, true))); break;
      case 'UINT32': w.ascii(String(view.getUint32(at, true))); break;
      case 'INT32': w.ascii(String(view.getInt32(at, true))); break;
      case 'UINT64': w.ascii(view.getBigUint64(at, true).toString()); break;
      case 'INT64': w.ascii(view.getBigInt64(at, true).toString()); break;
      case 'FP16': w.ascii(numberText(halfToNumber(view.getUint16(at, true)))); break;
      case 'BF16': w.ascii(numberText(bfloat16ToNumber(view.getUint16(at, true)))); break;
      case 'FP32': w.ascii(numberText(view.getFloat32(at, true))); break;
      case 'FP64': w.ascii(numberText(view.getFloat64(at, true))); break;
    }
    if (--untilYield === 0) {
      untilYield = ELEMENTS_PER_TURN;
      await nextTurn();
    }
  }
  w.byte(0x5d);
}
