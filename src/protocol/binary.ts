import { ofsError } from '../errors.js';
import type { Tensor } from '../core/tensor/tensor.js';
import { parseInferRequest } from './infer-request.js';
import { DEFAULT_JSON_LIMITS, DEFAULT_MAX_JSON_BYTES, JSON_BYTES_FLAG, type JsonLimits } from './json-limits.js';
import { parseScanned, scanJson, type DataSpan } from './json-scan.js';
import { ChunkWriter, writeTensorJson } from './json-writer.js';
import { elementCount } from '../core/tensor/dtype.js';
import { parseJsonExact, stringifyJsonExact } from './json-exact.js';
import type { V2InferRequest, V2InferResponse, V2Parameters } from './v2-types.js';

/**
 * The binary tensor data extension (triton-protocol.md §2): a JSON header of
 * Inference-Header-Content-Length bytes, then each binary input's bytes in `inputs` order, no padding.
 * Both directions of both messages live here: the server decodes requests and encodes responses, the
 * client (src/client/) encodes requests and decodes responses, with the same JSON (json-exact.ts) and
 * tensor (json-tensor.ts) codecs.
 */

export type DecodedInferBody =
  | {
      readonly kind: 'json';
      readonly request: V2InferRequest;
      /** binary[i] = the bytes of request.inputs[i] when it declared binary_data_size, else undefined. */
      readonly binary: readonly (Uint8Array | undefined)[];
      /**
       * spans[i]: request.inputs[i].data was all numbers/booleans and was left in `body` (its `data`
       * reads []); decode it with dataSpanToBytes.
       */
      readonly spans: readonly (DataSpan | undefined)[];
      readonly body: Uint8Array;
    }
  /** Inference-Header-Content-Length: 0: the body is the data of the model's single input. */
  | { readonly kind: 'raw'; readonly data: Uint8Array };

/** Parses the header value; a present but malformed value is the same range error Triton reports. */
export function parseInferenceHeaderLength(raw: string | string[] | undefined, bodyLength: number): number | undefined {
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? raw[0] ?? '' : raw;
  const trimmed = text.trim();
  const n = /^-?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > bodyLength) throw ofsError('OFS_INFER_HEADER_LENGTH', text, bodyLength);
  return n;
}

export interface InferJsonLimits extends JsonLimits {
  /** Longest JSON part (the whole body when no binary data follows). */
  readonly maxJsonBytes: number;
}

export const DEFAULT_INFER_JSON_LIMITS: InferJsonLimits = { ...DEFAULT_JSON_LIMITS, maxJsonBytes: DEFAULT_MAX_JSON_BYTES };

/**
 * Splits an infer body into its JSON request and per-input binary chunks. `model` names the model in
 * Triton's size errors. `headerLength` undefined means the whole body is JSON. The JSON part is
 * bounded by `limits` before it is parsed, and numeric `data` stays in the bytes (see json-scan.ts).
 */
export async function decodeInferBody(
  body: Uint8Array,
  headerLength: number | undefined,
  model: string,
  limits: InferJsonLimits = DEFAULT_INFER_JSON_LIMITS,
): Promise<DecodedInferBody> {
  if (headerLength !== undefined) {
    if (!Number.isSafeInteger(headerLength) || headerLength < 0 || headerLength > body.length) {
      throw ofsError('OFS_INFER_HEADER_LENGTH', String(headerLength), body.length);
    }
    if (headerLength === 0) return { kind: 'raw', data: body };
  }
  const jsonLength = headerLength ?? body.length;
  if (jsonLength > limits.maxJsonBytes) {
    throw ofsError('OFS_REQUEST_TOO_LARGE', `the JSON part of the request (${jsonLength} bytes)`, `${limits.maxJsonBytes} bytes`, JSON_BYTES_FLAG);
  }
  const jsonBytes = body.subarray(0, jsonLength);
  const scanned = await scanJson(jsonBytes, limits, { dataSpans: true });
  const json = parseScanned(scanned.text);
  const request = parseInferRequest(json);
  const binary: (Uint8Array | undefined)[] = [];
  let offset = jsonLength;
  for (const input of request.inputs) {
    const size = input.parameters?.binary_data_size;
    if (size === undefined) {
      binary.push(undefined);
      continue;
    }
    const bytes = size as number;
    if (bytes > 0 && headerLength === undefined) {
      throw ofsError(
        'OFS_INFER_INPUT',
        "must specify valid 'Infer-Header-Content-Length' in request header and 'binary_data_size' when passing inputs in binary data format",
      );
    }
    const available = body.length - offset;
    if (available < bytes) throw ofsError('OFS_INFER_BINARY_SIZE', input.name, bytes - available, model);
    binary.push(body.subarray(offset, offset + bytes));
    offset += bytes;
  }
  if (offset !== body.length) throw ofsError('OFS_INFER_EXTRA_DATA', model);
  const spans = request.inputs.map((_, i) => scanned.spans.get(i));
  return { kind: 'json', request, binary, spans, body: jsonBytes };
}

export interface EncodableOutput {
  readonly tensor: Tensor;
  /** true: the bytes follow the JSON; false: they go into `data`. */
  readonly binary: boolean;
  readonly parameters?: V2Parameters;
}

export interface EncodableResponse {
  readonly id?: string;
  readonly model_name: string;
  readonly model_version: string;
  readonly parameters?: V2Parameters;
  readonly outputs: readonly EncodableOutput[];
}

export interface EncodedBody {
  /** The body in order: JSON text, then each binary output's bytes (not copied). */
  readonly chunks: readonly Buffer[];
  /** Total bytes of `chunks`. */
  readonly length: number;
  /** Set when any output is binary: the JSON length for Inference-Header-Content-Length. */
  readonly headerLength?: number;
  readonly contentType: string;
}

export interface EncodeOptions {
  /** Largest body allowed; an output that would take the body past it throws OFS_RESPONSE_TOO_LARGE. */
  readonly maxBytes?: number;
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Builds the response body: JSON only, or JSON followed by the binary outputs in `outputs` order.
 * Binary outputs are checked against the limit before anything is written; JSON outputs while they
 * are written, so an oversized response costs at most the limit.
 */
export async function encodeInferResponse(response: EncodableResponse, options: EncodeOptions = {}): Promise<EncodedBody> {
  const limit = options.maxBytes ?? Number.MAX_SAFE_INTEGER;
  let binaryBytes = 0;
  for (const o of response.outputs) {
    if (!o.binary) continue;
    binaryBytes += o.tensor.data.length;
    if (binaryBytes > limit) {
      throw ofsError('OFS_RESPONSE_TOO_LARGE', o.tensor.name, `${o.tensor.data.length} bytes as binary data`, limit);
    }
  }
  let current: Tensor | undefined;
  const w = new ChunkWriter(limit - binaryBytes, () => {
    const t = current;
    if (!t) throw ofsError('OFS_RESPONSE_TOO_LARGE', '(none)', 'the JSON header', limit);
    throw ofsError(
      'OFS_RESPONSE_TOO_LARGE',
      t.name,
      `${elementCount(t.shape)} ${t.datatype} elements as JSON, ${t.data.length} bytes as binary data`,
      limit,
    );
  });
  w.byte(0x7b);
  if (response.id) w.text(`"id":${JSON.stringify(response.id)},`);
  w.text(`"model_name":${JSON.stringify(response.model_name)},"model_version":${JSON.stringify(response.model_version)}`);
  if (response.parameters && Object.keys(response.parameters).length > 0) {
    w.text(`,"parameters":${JSON.stringify(response.parameters)}`);
  }
  w.text(',"outputs":[');
  for (const [i, o] of response.outputs.entries()) {
    const t = o.tensor;
    current = t;
    // Key order as Triton writes it: name, datatype, shape, parameters, data.
    w.text(`${i > 0 ? ',' : ''}{"name":${JSON.stringify(t.name)},"datatype":${JSON.stringify(t.datatype)},"shape":${JSON.stringify(t.shape)}`);
    const params: V2Parameters = { ...(o.parameters ?? {}) };
    if (o.binary) params.binary_data_size = t.data.length;
    if (Object.keys(params).length > 0) w.text(`,"parameters":${JSON.stringify(params)}`);
    if (!o.binary) {
      w.ascii(',"data":');
      await writeTensorJson(w, t);
    }
    w.byte(0x7d);
  }
  w.ascii(']}');
  const header = w.finish();
  const headerLength = w.length;
  if (!response.outputs.some((o) => o.binary)) {
    return { chunks: header, length: headerLength, contentType: 'application/json' };
  }
  const binaries = response.outputs.filter((o) => o.binary && o.tensor.data.length > 0).map((o) => asBuffer(o.tensor.data));
  return {
    chunks: [...header, ...binaries],
    length: headerLength + binaryBytes,
    headerLength,
    contentType: 'application/octet-stream',
  };
}

// ── the client's side: requests out, responses in ─────────────────────────────────────────────────

const utf8 = new TextEncoder();

/**
 * A request body: the compact JSON (each binary input already declaring its binary_data_size) followed
 * by `blocks`, the binary inputs' bytes in input order. headerLength is undefined when nothing is
 * binary (the body is pure JSON).
 */
export function encodeInferRequestBody(request: V2InferRequest, blocks: readonly Uint8Array[]): { body: Uint8Array; headerLength?: number } {
  // stringifyJsonExact: INT64/UINT64 data beyond 2^53 goes out digit for digit, as bigint holds it.
  const header = utf8.encode(stringifyJsonExact(request));
  if (blocks.length === 0) return { body: header };
  const body = new Uint8Array(blocks.reduce((n, b) => n + b.byteLength, header.byteLength));
  body.set(header, 0);
  let offset = header.byteLength;
  for (const b of blocks) {
    body.set(b, offset);
    offset += b.byteLength;
  }
  return { body, headerLength: header.byteLength };
}

/**
 * Splits a response body: with `headerLength` (the Inference-Header-Content-Length response header) the
 * JSON is the first `headerLength` bytes and each output carrying `binary_data_size` owns the next that
 * many bytes, in output order; without it the body is all JSON. `fail` builds the error for a body that
 * does not add up (the client names the server in it).
 */
export function decodeInferResponseBody(
  body: Uint8Array,
  headerLength: number | undefined,
  fail: (what: string) => Error,
): { json: V2InferResponse; binary: Map<string, Uint8Array> } {
  const jsonEnd = headerLength ?? body.byteLength;
  if (!Number.isInteger(jsonEnd) || jsonEnd < 0 || jsonEnd > body.byteLength) {
    throw fail(`Inference-Header-Content-Length ${headerLength} does not fit a ${body.byteLength}-byte body`);
  }
  let json: V2InferResponse;
  try {
    json = parseJsonExact(Buffer.from(body.buffer, body.byteOffset, jsonEnd).toString('utf8')) as V2InferResponse;
  } catch (e) {
    throw fail(`the response JSON does not parse: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || !Array.isArray(json.outputs)) throw fail('the response JSON has no outputs array');
  const binary = new Map<string, Uint8Array>();
  let offset = jsonEnd;
  for (const out of json.outputs) {
    const size = out.parameters?.binary_data_size;
    if (size === undefined) continue;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) throw fail(`output '${out.name}' has binary_data_size ${String(size)}`);
    if (headerLength === undefined) throw fail(`output '${out.name}' is binary but the response has no Inference-Header-Content-Length`);
    if (offset + size > body.byteLength) {
      throw fail(`output '${out.name}' claims ${size} bytes at offset ${offset} but the body has ${body.byteLength}`);
    }
    binary.set(out.name, body.subarray(offset, offset + size));
    offset += size;
  }
  return { json, binary };
}
