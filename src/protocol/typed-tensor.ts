import { ofsError } from '../errors.js';
import { dtypeFromWire, type DtypeInfo, type TypedArray } from '../core/tensor/dtype.js';
import { parseBytesElements, serializeBytesElements } from '../core/tensor/bytes.js';

/**
 * Tensor bytes ↔ JS typed arrays and strings: how API callers hand tensors to the client and read them
 * back. The wire form is little-endian and hosts are assumed little-endian (x86, arm64), so typed arrays
 * read the bytes directly; INT64/UINT64 stay exact as BigInt64Array/BigUint64Array. The JSON form of the
 * same bytes is json-tensor.ts.
 */

const decoder = new TextDecoder('utf-8');

function dtypeOf(datatype: string): DtypeInfo {
  const info = dtypeFromWire(datatype);
  if (!info) throw ofsError('OFS_TENSOR_DATA', `unknown datatype '${datatype}'`);
  return info;
}

/** A typed-array view of `data` (copied first when the offset is not aligned to the element size). */
export function typedView(datatype: string, data: Uint8Array): TypedArray {
  const info = dtypeOf(datatype);
  if (!info.array) throw ofsError('OFS_TENSOR_DATA', `${datatype} has no fixed-size element type`);
  if (data.byteLength % info.itemSize !== 0) {
    throw ofsError('OFS_TENSOR_DATA', `${data.byteLength} bytes is not a whole number of ${datatype} elements`);
  }
  // new Uint8Array(x) copies even when x is a Buffer (whose slice() would be another view).
  const aligned = data.byteOffset % info.itemSize === 0 ? data : new Uint8Array(data);
  return new info.array(aligned.buffer, aligned.byteOffset, aligned.byteLength / info.itemSize);
}

/** A typed array (of the datatype's kind: BigInt64Array for INT64, …) or strings → wire bytes. */
export function valuesToBytes(datatype: string, values: TypedArray | readonly string[]): Uint8Array {
  if (datatype === 'BYTES') {
    if (!Array.isArray(values)) throw ofsError('OFS_TENSOR_DATA', 'BYTES data must be an array of strings');
    return serializeBytesElements(values as readonly string[]);
  }
  if (Array.isArray(values)) throw ofsError('OFS_TENSOR_DATA', `${datatype} data must be a typed array, not strings`);
  const info = dtypeOf(datatype);
  const typed = values as TypedArray;
  if (info.array && !(typed instanceof info.array)) {
    throw ofsError('OFS_TENSOR_DATA', `${datatype} data must be a ${info.array.name}, got ${typed.constructor.name}`);
  }
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

/** A BYTES tensor's elements as UTF-8 strings. */
export function bytesToStrings(data: Uint8Array): string[] {
  const items = parseBytesElements(data);
  if (!items) throw ofsError('OFS_TENSOR_DATA', `malformed BYTES data: a length prefix runs past the end of ${data.byteLength} bytes`);
  return items.map((b) => decoder.decode(b));
}

/** Any real-valued numeric tensor → Float32Array (a view when it already is FP32 and aligned). */
export function bytesToFloat32(datatype: string, data: Uint8Array): Float32Array {
  if (datatype === 'FP32') return typedView(datatype, data) as Float32Array;
  if (datatype === 'BYTES' || datatype === 'FP16' || datatype === 'BF16') {
    throw ofsError('OFS_TENSOR_DATA', `cannot read a ${datatype} tensor as float32`);
  }
  const view = typedView(datatype, data);
  return Float32Array.from(view as ArrayLike<number | bigint>, (v) => Number(v));
}

/** Number of elements in `data` for `datatype` (BYTES: counted by walking the length prefixes). */
export function countElements(datatype: string, data: Uint8Array): number {
  if (datatype === 'BYTES') return bytesToStrings(data).length;
  return data.byteLength / dtypeOf(datatype).itemSize;
}
