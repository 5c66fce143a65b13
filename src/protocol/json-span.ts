import { setImmediate as nextTurn } from 'node:timers/promises';
import { ofsError } from '../errors.js';
import { elementCount } from '../core/tensor/dtype.js';
import type { DataSpan } from './json-scan.js';
import { numberEnd } from './json-scan.js';
import { asBigInteger, asInteger, badElement, jsonDatatype, SHAPE_MISMATCH } from './json-tensor.js';

/**
 * Decodes a numeric `data` span (json-scan.ts) straight from the request bytes into tensor bytes:
 * no JS array, no string per element on the common path. Same rules and messages as
 * jsonDataToBytes (json-tensor.ts), which handles `data` that went through JSON.parse.
 */

const POW10: readonly number[] = Array.from({ length: 23 }, (_, i) => 10 ** i);
const TWO32 = 2 ** 32;
const DEFAULT_SLICE_ELEMENTS = 1 << 20;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Bytes of text decoded at a time for the numbers the fast path does not take. */
const WINDOW = 1024 * 1024;

/**
 * Reads JSON numbers (already checked against JSON's grammar) from `b`, rounded as JSON.parse rounds
 * them. Up to 15 significant digits and a power of ten up to 22, one IEEE multiplication or division
 * of two exact values is correctly rounded (Clinger's fast path). Anything else (numpy's 17-digit
 * floats, say) goes through Number() on a slice of a window of the text decoded once per megabyte,
 * rather than a string made per element.
 */
export class JsonNumberReader {
  readonly #b: Buffer;
  #windowStart = 0;
  #windowEnd = 0;
  #window = '';

  constructor(b: Buffer) {
    this.#b = b;
  }

  read(p: number, q: number): number {
    const b = this.#b;
    let i = p;
    const negative = b[i] === 0x2d;
    if (negative) i++;
    let mantissa = 0;
    let digits = 0;
    let scale = 0;
    while (i < q && isDigit(b[i])) {
      mantissa = mantissa * 10 + (b[i] - 0x30);
      digits++;
      i++;
    }
    if (i < q && b[i] === 0x2e) {
      i++;
      while (i < q && isDigit(b[i])) {
        mantissa = mantissa * 10 + (b[i] - 0x30);
        digits++;
        scale++;
        i++;
      }
    }
    let exponent = 0;
    if (i < q) {
      i++; // e or E
      let expNegative = false;
      if (b[i] === 0x2d) {
        expNegative = true;
        i++;
      } else if (b[i] === 0x2b) i++;
      while (i < q && exponent < 1e6) {
        exponent = exponent * 10 + (b[i] - 0x30);
        i++;
      }
      if (i < q) digits = Number.POSITIVE_INFINITY; // absurd exponent: leave it to Number()
      if (expNegative) exponent = -exponent;
    }
    if (digits <= 15) {
      const e = exponent - scale;
      let v: number | undefined;
      if (e === 0) v = mantissa;
      else if (e > 0 && e <= 22) v = mantissa * POW10[e];
      else if (e < 0 && e >= -22) v = mantissa / POW10[-e];
      if (v !== undefined) return negative ? -v : v;
    }
    if (p < this.#windowStart || q > this.#windowEnd) {
      this.#windowStart = p;
      this.#windowEnd = Math.max(q, Math.min(b.length, p + WINDOW));
      this.#window = b.toString('latin1', this.#windowStart, this.#windowEnd);
    }
    return Number(this.#window.slice(p - this.#windowStart, q - this.#windowStart));
  }
}

/** One number read on its own (tests, error messages). */
export function jsonNumberAt(b: Buffer, p: number, q: number): number {
  return new JsonNumberReader(b).read(p, q);
}

/** An optional minus sign and digits only: no fraction, no exponent. */
function isIntegerLiteral(b: Buffer, p: number, q: number): boolean {
  for (let i = b[p] === 0x2d ? p + 1 : p; i < q; i++) if (!isDigit(b[i] as number)) return false;
  return true;
}

/** The first element of a span, for the error message of a type that takes no numbers. */
function firstElement(b: Buffer, span: DataSpan): number | boolean | undefined {
  for (let p = span.start; p < span.end; p++) {
    const c = b[p];
    if (c === 0x2d || isDigit(c)) return jsonNumberAt(b, p, numberEnd(b, p, span.end));
    if (c === 0x74) return true;
    if (c === 0x66) return false;
  }
  return undefined;
}

/**
 * The tensor bytes of input `input` whose `data` is `span` within `body`. Yields to the event loop
 * every `sliceElements` elements.
 */
export async function dataSpanToBytes(
  input: string,
  datatype: string,
  shape: readonly number[],
  body: Uint8Array,
  span: DataSpan,
  sliceElements = DEFAULT_SLICE_ELEMENTS,
): Promise<Uint8Array> {
  const info = jsonDatatype(input, datatype);
  const count = span.count;
  if (count !== elementCount(shape)) throw ofsError('OFS_INFER_INPUT', SHAPE_MISMATCH);
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const wire = info.wire;
  if (wire === 'BYTES') throw badElement(input, wire, firstElement(b, span));
  const size = info.itemSize;
  const out = new Uint8Array(count * size);
  const view = new DataView(out.buffer);
  const numbers = new JsonNumberReader(b);
  const wide = wire === 'INT64' || wire === 'UINT64';
  let at = 0;
  let untilYield = sliceElements;
  let p = span.start;
  const end = span.end;
  while (p < end) {
    const c = b[p];
    let v: number | bigint | boolean;
    if (c === 0x2d || isDigit(c)) {
      const q = numberEnd(b, p, end);
      // A 64-bit integer literal of 16 digits or more may be past 2^53: read it exactly, as Triton does.
      v = wide && q - p > 15 && isIntegerLiteral(b, p, q) ? BigInt(b.toString('latin1', p, q)) : numbers.read(p, q);
      p = q;
    } else if (c === 0x74) {
      v = true;
      p += 4;
    } else if (c === 0x66) {
      v = false;
      p += 5;
    } else {
      // brackets, commas, whitespace
      p++;
      continue;
    }
    if (wire === 'BOOL') {
      if (typeof v !== 'boolean') throw badElement(input, wire, v);
      out[at] = v ? 1 : 0;
    } else if (typeof v === 'bigint') {
      if (wire === 'INT64') view.setBigInt64(at, asBigInteger(input, wire, v), true);
      else if (wire === 'UINT64') view.setBigUint64(at, asBigInteger(input, wire, v), true);
      else throw badElement(input, wire, v);
    } else if (typeof v !== 'number') {
      throw badElement(input, wire, v);
    } else {
      switch (wire) {
        case 'FP32': view.setFloat32(at, v, true); break;
        case 'FP64': view.setFloat64(at, v, true); break;
        case 'UINT8': out[at] = asInteger(input, wire, v); break;
        case 'INT8': view.setInt8(at, asInteger(input, wire, v)); break;
        case 'UINT16': view.setUint16(at, asInteger(input, wire, v), true); break;
        case 'INT16': view.setInt16(at, asInteger(input, wire, v), true); break;
        case 'UINT32': view.setUint32(at, asInteger(input, wire, v), true); break;
        case 'INT32': view.setInt32(at, asInteger(input, wire, v), true); break;
        case 'UINT64':
        case 'INT64': {
          // Safe integers: low word modulo 2^32, high word by floor division, which is two's complement
          // for negatives; no BigInt per element. Anything else (1.5, a float literal like 1e19, a
          // negative UINT64) goes to asBigInteger for its message.
          if (!Number.isSafeInteger(v) || (wire === 'UINT64' && v < 0)) asBigInteger(input, wire, v);
          const n = v;
          view.setUint32(at, n >>> 0, true);
          view.setInt32(at + 4, Math.floor(n / TWO32), true);
          break;
        }
        default:
          throw ofsError('OFS_INFER_INPUT', `invalid datatype for input ${input}`);
      }
    }
    at += size;
    if (--untilYield === 0) {
      untilYield = sliceElements;
      await nextTurn();
    }
  }
  return out;
}
