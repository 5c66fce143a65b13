import { ofsError } from '../errors.js';
import { dtypeFromWire, elementCount, type DtypeInfo, type WireDatatype } from '../core/tensor/dtype.js';
import type { Tensor } from '../core/tensor/tensor.js';
import { parseBytesElements, serializeBytesElements } from '../core/tensor/bytes.js';
import { bfloat16ToNumber, halfToNumber } from '../core/tensor/half.js';
import { stringifyJsonExact } from './json-exact.js';

/**
 * JSON `data` arrays ↔ tensor bytes. Requests may nest `data` or send it flat (row-major either way);
 * responses are always flat, as Triton writes them.
 */

export const SHAPE_MISMATCH = "Unable to parse 'data': Shape does not match true shape of 'data' field";

/** Iterative, so a `data` nested a million levels deep is an ordinary element list, not a stack overflow. */
function flatten(data: unknown, out: unknown[]): void {
  const stack: { items: readonly unknown[]; next: number }[] = [];
  let current: unknown = data;
  for (;;) {
    if (Array.isArray(current)) stack.push({ items: current, next: 0 });
    else out.push(current);
    let top = stack[stack.length - 1];
    while (top && top.next >= top.items.length) {
      stack.pop();
      top = stack[stack.length - 1];
    }
    if (!top) return;
    current = top.items[top.next++];
  }
}

export function badElement(input: string, datatype: string, value: unknown): Error {
  return ofsError('OFS_INFER_INPUT', `Unable to parse 'data': expected ${datatype} element for input '${input}', got ${stringifyJsonExact(value)}`);
}

/**
 * Inclusive ranges of the integer datatypes. A JSON number outside them would be wrapped by the
 * DataView setters (300 becoming 44 as UINT8), so it is refused. 64-bit values beyond 2^53 arrive as
 * bigint from parseJsonExact (protocol/json-exact.ts) and are checked against the full 64-bit range.
 */
const INTEGER_RANGE: Readonly<Record<string, readonly [bigint, bigint]>> = {
  INT8: [-128n, 127n],
  UINT8: [0n, 255n],
  INT16: [-32768n, 32767n],
  UINT16: [0n, 65535n],
  INT32: [-(2n ** 31n), 2n ** 31n - 1n],
  UINT32: [0n, 2n ** 32n - 1n],
  INT64: [-(2n ** 63n), 2n ** 63n - 1n],
  UINT64: [0n, 2n ** 64n - 1n],
};

function outOfRange(input: string, datatype: string, value: number | bigint): Error {
  const [lo, hi] = INTEGER_RANGE[datatype] ?? [0n, -1n];
  return ofsError('OFS_INFER_INPUT', `Unable to parse 'data': ${value} is out of range for ${datatype} input '${input}' (${lo} to ${hi})`);
}

/** An integer element as a number (types up to 32 bits). */
export function asInteger(input: string, datatype: string, value: unknown): number {
  const [lo, hi] = INTEGER_RANGE[datatype] ?? [0n, -1n];
  if (typeof value === 'bigint') throw outOfRange(input, datatype, value);
  if (typeof value !== 'number' || !Number.isInteger(value)) throw badElement(input, datatype, value);
  if (value < lo || value > hi) throw outOfRange(input, datatype, value);
  return value;
}

/**
 * A 64-bit integer element, exact. A number beyond 2^53 can only have come from a float literal such
 * as 1e19 (integer literals that large parse as bigint), which names no exact value.
 */
export function asBigInteger(input: string, datatype: string, value: unknown): bigint {
  const [lo, hi] = INTEGER_RANGE[datatype] ?? [0n, -1n];
  let v: bigint;
  if (typeof value === 'bigint') v = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) v = BigInt(value);
  else if (typeof value === 'number' && Number.isInteger(value)) {
    throw ofsError(
      'OFS_INFER_INPUT',
      `Unable to parse 'data': ${JSON.stringify(value)} for ${datatype} input '${input}' is not an exact integer; write it out in digits`,
    );
  } else throw badElement(input, datatype, value);
  if (v < lo || v > hi) throw outOfRange(input, datatype, v);
  return v;
}

/** A float element; an integer literal too long for a double still names a float value. */
function asFloat(input: string, datatype: string, value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw badElement(input, datatype, value);
}

/** The datatype of an input sent as JSON `data`; Triton refuses FP16 and BF16 there. */
export function jsonDatatype(input: string, datatype: string): DtypeInfo {
  if (datatype === 'FP16' || datatype === 'BF16') {
    throw ofsError(
      'OFS_INFER_INPUT',
      `receiving ${datatype} data via JSON is not supported. Please use the binary data format for input ${input}`,
    );
  }
  const info = dtypeFromWire(datatype);
  if (!info) throw ofsError('OFS_INFER_INPUT', `invalid datatype for input ${input}`);
  return info;
}

/**
 * Converts the JSON `data` of input `input` to little-endian row-major bytes (BYTES serialized with
 * length prefixes). `data` comes from parseJsonExact, so 64-bit integers may be bigint. Throws Triton's
 * messages for an element count that does not match `shape`.
 */
export function jsonDataToBytes(input: string, datatype: string, shape: readonly number[], data: unknown): Uint8Array {
  const info = jsonDatatype(input, datatype);
  if (!Array.isArray(data)) throw ofsError('OFS_INFER_INPUT', "Unable to parse 'data'");
  const flat: unknown[] = [];
  flatten(data, flat);
  const count = elementCount(shape);
  if (flat.length !== count) throw ofsError('OFS_INFER_INPUT', SHAPE_MISMATCH);

  const wire = info.wire;
  if (wire === 'BYTES') {
    return serializeBytesElements(
      flat.map((v) => {
        if (typeof v !== 'string') throw badElement(input, wire, v);
        return v;
      }),
    );
  }
  const out = new Uint8Array(count * info.itemSize);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) {
    const v = flat[i];
    const at = i * info.itemSize;
    switch (wire) {
      case 'BOOL':
        if (typeof v !== 'boolean') throw badElement(input, wire, v);
        out[at] = v ? 1 : 0;
        break;
      case 'UINT8': view.setUint8(at, asInteger(input, wire, v)); break;
      case 'UINT16': view.setUint16(at, asInteger(input, wire, v), true); break;
      case 'UINT32': view.setUint32(at, asInteger(input, wire, v), true); break;
      case 'UINT64': view.setBigUint64(at, asBigInteger(input, wire, v), true); break;
      case 'INT8': view.setInt8(at, asInteger(input, wire, v)); break;
      case 'INT16': view.setInt16(at, asInteger(input, wire, v), true); break;
      case 'INT32': view.setInt32(at, asInteger(input, wire, v), true); break;
      case 'INT64': view.setBigInt64(at, asBigInteger(input, wire, v), true); break;
      case 'FP32': view.setFloat32(at, asFloat(input, wire, v), true); break;
      case 'FP64': view.setFloat64(at, asFloat(input, wire, v), true); break;
      default:
        throw ofsError('OFS_INFER_INPUT', `invalid datatype for input ${input}`);
    }
  }
  return out;
}

/** A tensor element as JSON would carry it; 64-bit integers stay exact as bigint. */
export type JsonElement = number | bigint | boolean | string;

const decoder = new TextDecoder();

/** The flat element values of tensor bytes (BYTES decoded as UTF-8 strings). */
export function tensorToJsonValues(datatype: WireDatatype, data: Uint8Array): JsonElement[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const info = dtypeFromWire(datatype);
  if (!info) throw ofsError('OFS_INTERNAL', `invalid datatype ${datatype}`);
  if (datatype === 'BYTES') {
    const items = parseBytesElements(data);
    if (!items) throw ofsError('OFS_BACKEND_FAILED', 'malformed BYTES tensor');
    return items.map((b) => decoder.decode(b));
  }
  const n = Math.floor(data.length / info.itemSize);
  const out: JsonElement[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * info.itemSize;
    switch (datatype) {
      case 'BOOL': out[i] = data[at] !== 0; break;
      case 'UINT8': out[i] = view.getUint8(at); break;
      case 'UINT16': out[i] = view.getUint16(at, true); break;
      case 'UINT32': out[i] = view.getUint32(at, true); break;
      case 'UINT64': out[i] = view.getBigUint64(at, true); break;
      case 'INT8': out[i] = view.getInt8(at); break;
      case 'INT16': out[i] = view.getInt16(at, true); break;
      case 'INT32': out[i] = view.getInt32(at, true); break;
      case 'INT64': out[i] = view.getBigInt64(at, true); break;
      case 'FP16': out[i] = halfToNumber(view.getUint16(at, true)); break;
      case 'BF16': out[i] = bfloat16ToNumber(view.getUint16(at, true)); break;
      case 'FP32': out[i] = view.getFloat32(at, true); break;
      case 'FP64': out[i] = view.getFloat64(at, true); break;
    }
  }
  return out;
}

function elementText(v: JsonElement): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return JSON.stringify(v);
  // JSON has no NaN/Infinity; null becomes NaN again in numpy's float arrays (what tritonclient builds).
  if (typeof v === 'number' && !Number.isFinite(v)) return 'null';
  return String(v);
}

/**
 * The flat JSON array text of a tensor's data. Written directly (not via JSON.stringify) so INT64 and
 * UINT64 values beyond 2^53 come out exact, as Triton writes them.
 */
export function tensorToJsonText(tensor: Tensor): string {
  const values = tensorToJsonValues(tensor.datatype, tensor.data);
  const count = elementCount(tensor.shape);
  if (values.length !== count) {
    throw ofsError('OFS_BACKEND_FAILED', `output tensor shape does not match size of output for '${tensor.name}'`);
  }
  return `[${values.map(elementText).join(',')}]`;
}
