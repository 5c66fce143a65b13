import { ofsError } from '../errors.js';
import { dtypeFromWire, elementCount, type DtypeInfo } from '../core/tensor/dtype.js';
import { serializeBytesElements } from '../core/tensor/bytes.js';

/**
 * JSON `data` arrays → tensor bytes, for `data` that went through JSON.parse (strings, mixed, or
 * anything json-scan did not leave as a numeric span). Requests may nest `data` or send it flat
 * (row-major either way). Responses are written by json-writer.ts.
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
  return ofsError('OFS_INFER_INPUT', `Unable to parse 'data': expected ${datatype} element for input '${input}', got ${JSON.stringify(value)}`);
}

/**
 * Inclusive ranges of the integer datatypes. A JSON number outside them would be wrapped by the
 * DataView setters (300 becoming 44 as UINT8), so it is refused; 64-bit types stop where JSON numbers
 * stop being exact.
 */
const INTEGER_RANGE: Readonly<Record<string, readonly [number, number]>> = {
  INT8: [-128, 127],
  UINT8: [0, 255],
  INT16: [-32768, 32767],
  UINT16: [0, 65535],
  INT32: [-(2 ** 31), 2 ** 31 - 1],
  UINT32: [0, 2 ** 32 - 1],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
};

export function asInteger(input: string, datatype: string, value: unknown): number {
  const [lo, hi] = INTEGER_RANGE[datatype] ?? [0, -1];
  if (typeof value !== 'number' || !Number.isInteger(value)) throw badElement(input, datatype, value);
  if (value < lo || value > hi) {
    const exact = datatype.endsWith('64') && Math.abs(value) > Number.MAX_SAFE_INTEGER;
    throw ofsError(
      'OFS_INFER_INPUT',
      exact
        ? `Unable to parse 'data': ${JSON.stringify(value)} for ${datatype} input '${input}' is beyond 2^53 and cannot be read exactly from JSON; send the input as binary data`
        : `Unable to parse 'data': ${JSON.stringify(value)} is out of range for ${datatype} input '${input}' (${lo} to ${hi})`,
    );
  }
  return value;
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
 * length prefixes). Throws Triton's messages for an element count that does not match `shape`.
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
      case 'UINT64': view.setBigUint64(at, BigInt(asInteger(input, wire, v)), true); break;
      case 'INT8': view.setInt8(at, asInteger(input, wire, v)); break;
      case 'INT16': view.setInt16(at, asInteger(input, wire, v), true); break;
      case 'INT32': view.setInt32(at, asInteger(input, wire, v), true); break;
      case 'INT64': view.setBigInt64(at, BigInt(asInteger(input, wire, v)), true); break;
      case 'FP32':
        if (typeof v !== 'number') throw badElement(input, wire, v);
        view.setFloat32(at, v, true);
        break;
      case 'FP64':
        if (typeof v !== 'number') throw badElement(input, wire, v);
        view.setFloat64(at, v, true);
        break;
      default:
        throw ofsError('OFS_INFER_INPUT', `invalid datatype for input ${input}`);
    }
  }
  return out;
}
