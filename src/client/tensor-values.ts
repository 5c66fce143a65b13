import { dtypeFromWire, type DtypeInfo, type TypedArray } from '../core/tensor/dtype.js';
import { deserializeStrings, serializeBytes } from './bytes-codec.js';

/**
 * Conversions between a tensor's little-endian bytes and JS values, for the JSON (non-binary) side of
 * the protocol and for typed accessors. Hosts are assumed little-endian (x86, arm64), so typed arrays
 * read the wire bytes directly.
 */

export type JsonElement = number | boolean | string;

export function dtypeOrThrow(datatype: string): DtypeInfo {
  const info = dtypeFromWire(datatype);
  if (!info) throw new Error(`unknown datatype '${datatype}'`);
  return info;
}

/** A typed-array view of `data` (copied first when the offset is not aligned to the element size). */
export function typedView(datatype: string, data: Uint8Array): TypedArray {
  const info = dtypeOrThrow(datatype);
  if (!info.array) throw new Error(`${datatype} has no fixed-size element type`);
  if (data.byteLength % info.itemSize !== 0) {
    throw new Error(`${data.byteLength} bytes is not a whole number of ${datatype} elements`);
  }
  // new Uint8Array(x) copies even when x is a Buffer (whose slice() would be another view).
  const aligned = data.byteOffset % info.itemSize === 0 ? data : new Uint8Array(data);
  return new info.array(aligned.buffer, aligned.byteOffset, aligned.byteLength / info.itemSize);
}

/** Bytes → JSON `data` values. FP16/BF16 have no JSON form in Triton, so they are refused. */
export function bytesToJsonValues(datatype: string, data: Uint8Array): JsonElement[] {
  if (datatype === 'BYTES') return deserializeStrings(data);
  if (datatype === 'FP16' || datatype === 'BF16') throw new Error(`${datatype} tensors can only travel as binary data`);
  const view = typedView(datatype, data);
  if (datatype === 'BOOL') return Array.from(view as Uint8Array, (v) => v !== 0);
  // INT64/UINT64 beyond 2^53 lose precision in JSON anyway (Triton parses them as JSON numbers).
  return Array.from(view as ArrayLike<number | bigint>, (v) => Number(v));
}

/** JSON `data` values (flat or nested, row-major) → bytes. */
export function jsonValuesToBytes(datatype: string, values: readonly unknown[]): Uint8Array {
  const flat = (values as unknown[]).flat(Infinity);
  if (datatype === 'BYTES') return serializeBytes(flat.map((v) => String(v)));
  const info = dtypeOrThrow(datatype);
  if (!info.array || datatype === 'FP16' || datatype === 'BF16') {
    throw new Error(`${datatype} tensors can only travel as binary data`);
  }
  const arr = new info.array(flat.length);
  const isBig = arr instanceof BigInt64Array || arr instanceof BigUint64Array;
  flat.forEach((v, i) => {
    const n = typeof v === 'boolean' ? (v ? 1 : 0) : Number(v);
    if (isBig) (arr as BigInt64Array)[i] = BigInt(Math.trunc(n));
    else (arr as Float64Array)[i] = n;
  });
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
}

/** Any numeric tensor → Float32Array (a view when it already is FP32 and aligned). */
export function bytesToFloat32(datatype: string, data: Uint8Array): Float32Array {
  if (datatype === 'FP32') return typedView(datatype, data) as Float32Array;
  if (datatype === 'BYTES' || datatype === 'FP16' || datatype === 'BF16') {
    throw new Error(`cannot read a ${datatype} tensor as float32`);
  }
  const view = typedView(datatype, data);
  return Float32Array.from(view as ArrayLike<number | bigint>, (v) => Number(v));
}

/** A typed array or strings → the wire bytes of `datatype`. */
export function valuesToBytes(datatype: string, values: TypedArray | readonly string[]): Uint8Array {
  if (datatype === 'BYTES') {
    if (!Array.isArray(values)) throw new Error('BYTES inputs take an array of strings');
    return serializeBytes(values as readonly string[]);
  }
  if (Array.isArray(values)) throw new Error(`${datatype} inputs take a typed array, not strings`);
  const info = dtypeOrThrow(datatype);
  const typed = values as TypedArray;
  if (info.array && !(typed instanceof info.array)) {
    throw new Error(`${datatype} data must be a ${info.array.name}, got ${typed.constructor.name}`);
  }
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

/** Number of elements in `data` for `datatype` (BYTES: counted by walking the length prefixes). */
export function countElements(datatype: string, data: Uint8Array): number {
  if (datatype === 'BYTES') return deserializeStrings(data).length;
  const info = dtypeOrThrow(datatype);
  return data.byteLength / info.itemSize;
}
