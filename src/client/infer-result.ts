import { ofsError } from '../errors.js';
import type { WireDatatype } from '../core/tensor/dtype.js';
import type { Tensor } from '../core/tensor/tensor.js';
import { dtypeFromWire } from '../core/tensor/dtype.js';
import { parseJsonExact } from '../protocol/json-exact.js';
import { jsonDataToBytes } from '../protocol/json-tensor.js';
import { bytesToFloat32, bytesToStrings } from '../protocol/typed-tensor.js';
import type { InferOutputJson, InferResponseJson } from './v2-types.js';

const decoder = new TextDecoder('utf-8');

/**
 * A decoded infer response (tritonclient's InferResult): the JSON header plus, for binary outputs,
 * the slice of the body each one occupies. Accessors convert on demand and fail with
 * OFS_BAD_RESPONSE when the server sent something inconsistent.
 */
export class InferResult {
  constructor(
    /** The response JSON as the server sent it. */
    readonly json: InferResponseJson,
    private readonly binary: ReadonlyMap<string, Uint8Array>,
    private readonly url: string,
  ) {}

  get modelName(): string {
    return this.json.model_name;
  }

  get modelVersion(): string | undefined {
    return this.json.model_version;
  }

  get id(): string | undefined {
    return this.json.id;
  }

  outputNames(): string[] {
    return this.json.outputs.map((o) => o.name);
  }

  /** The output's JSON entry; throws when the response has no output of that name. */
  output(name: string): InferOutputJson {
    const out = this.json.outputs.find((o) => o.name === name);
    if (!out) throw this.bad(`no output named '${name}' (got ${this.outputNames().join(', ') || 'none'})`);
    return out;
  }

  /** The output as a Tensor: little-endian bytes, BYTES in length-prefixed form, whatever way it came. */
  asTensor(name: string): Tensor {
    const out = this.output(name);
    const info = dtypeFromWire(out.datatype);
    if (!info) throw this.bad(`output '${name}': unknown datatype '${out.datatype}'`);
    let data = this.binary.get(name);
    if (!data) {
      if (!Array.isArray(out.data)) throw this.bad(`output '${name}' has neither binary data nor a data array`);
      if (!Array.isArray(out.shape) || !out.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw this.bad(`output '${name}' has shape ${JSON.stringify(out.shape)}`);
      }
      try {
        // The server's own JSON reader: the same element checks, and exact INT64/UINT64.
        data = jsonDataToBytes(name, out.datatype, out.shape, out.data);
      } catch (e) {
        throw this.bad(`output '${name}': ${(e as Error).message}`);
      }
    }
    if (info.itemSize > 0) {
      const expected = out.shape.reduce((n, d) => n * d, 1) * info.itemSize;
      if (data.byteLength !== expected) {
        throw this.bad(`output '${name}' has ${data.byteLength} bytes but shape [${out.shape.join(',')}] of ${out.datatype} needs ${expected}`);
      }
    }
    return { name, datatype: info.wire as WireDatatype, shape: [...out.shape], data };
  }

  /** A numeric output as float32 values (converted from other numeric types). */
  asFloat32(name: string): Float32Array {
    const t = this.asTensor(name);
    try {
      return bytesToFloat32(t.datatype, t.data);
    } catch (e) {
      throw this.bad(`output '${name}': ${(e as Error).message}`);
    }
  }

  /** A BYTES output (e.g. classification results) decoded as UTF-8 strings, row-major. */
  asStrings(name: string): string[] {
    const out = this.output(name);
    if (out.datatype !== 'BYTES') throw this.bad(`output '${name}' is ${out.datatype}, not BYTES`);
    const binary = this.binary.get(name);
    if (!binary) {
      if (!Array.isArray(out.data)) throw this.bad(`output '${name}' has neither binary data nor a data array`);
      return (out.data as unknown[]).flat(Infinity).map((v) => String(v));
    }
    try {
      return bytesToStrings(binary);
    } catch (e) {
      throw this.bad(`output '${name}': ${(e as Error).message}`);
    }
  }

  private bad(what: string) {
    return ofsError('OFS_BAD_RESPONSE', this.url, what);
  }
}

/**
 * Splits a response body: with `headerLength` (the Inference-Header-Content-Length response header) the
 * JSON is the first `headerLength` bytes and each output carrying `binary_data_size` owns the next that
 * many bytes, in the order of `outputs`; without it the body is all JSON.
 */
export function decodeInferResponse(body: Uint8Array, headerLength: number | undefined, url: string): InferResult {
  const bad = (what: string) => ofsError('OFS_BAD_RESPONSE', url, what);
  const jsonEnd = headerLength ?? body.byteLength;
  if (!Number.isInteger(jsonEnd) || jsonEnd < 0 || jsonEnd > body.byteLength) {
    throw bad(`Inference-Header-Content-Length ${headerLength} does not fit a ${body.byteLength}-byte body`);
  }
  let json: InferResponseJson;
  try {
    json = parseJsonExact(decoder.decode(body.subarray(0, jsonEnd))) as InferResponseJson;
  } catch (e) {
    throw bad(`the response JSON does not parse: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || !Array.isArray(json.outputs)) {
    throw bad('the response JSON has no outputs array');
  }
  const binary = new Map<string, Uint8Array>();
  let offset = jsonEnd;
  for (const out of json.outputs) {
    const size = out.parameters?.binary_data_size;
    if (size === undefined) continue;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
      throw bad(`output '${out.name}' has binary_data_size ${String(size)}`);
    }
    if (headerLength === undefined) throw bad(`output '${out.name}' is binary but the response has no Inference-Header-Content-Length`);
    if (offset + size > body.byteLength) {
      throw bad(`output '${out.name}' claims ${size} bytes at offset ${offset} but the body has ${body.byteLength}`);
    }
    binary.set(out.name, body.subarray(offset, offset + size));
    offset += size;
  }
  return new InferResult(json, binary, url);
}
