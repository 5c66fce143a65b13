import { ofsError } from '../errors.js';
import type { Tensor } from '../core/tensor/tensor.js';
import { parseInferRequest } from './infer-request.js';
import { DEFAULT_JSON_LIMITS, DEFAULT_MAX_JSON_BYTES, JSON_BYTES_FLAG, type JsonLimits } from './json-limits.js';
import { parseScanned, scanJson, type DataSpan } from './json-scan.js';
import { ChunkWriter, writeTensorJson } from './json-writer.js';
import { elementCount } from '../core/tensor/dtype.js';
import type { V2InferRequest, V2Parameters } from './v2-types.js';

/**
 * The binary tensor data extension (triton-protocol.md §2): a JSON header of
 * Inference-Header-Content-Length bytes, then each binary input's bytes in `inputs` order, no padding.
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
