import { ofsError } from '../errors.js';
import type { Tensor } from '../core/tensor/tensor.js';
import { parseInferRequest } from './infer-request.js';
import { parseJsonExact } from './json-exact.js';
import { tensorToJsonText } from './json-tensor.js';
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

/**
 * Splits an infer body into its JSON request and per-input binary chunks. `model` names the model in
 * Triton's size errors. `headerLength` undefined means the whole body is JSON.
 */
export function decodeInferBody(body: Uint8Array, headerLength: number | undefined, model: string): DecodedInferBody {
  if (headerLength !== undefined) {
    if (!Number.isSafeInteger(headerLength) || headerLength < 0 || headerLength > body.length) {
      throw ofsError('OFS_INFER_HEADER_LENGTH', String(headerLength), body.length);
    }
    if (headerLength === 0) return { kind: 'raw', data: body };
  }
  const jsonLength = headerLength ?? body.length;
  let json: unknown;
  try {
    // parseJsonExact: INT64/UINT64 data beyond 2^53 is read digit for digit, as Triton does.
    json = parseJsonExact(Buffer.from(body.buffer, body.byteOffset, jsonLength).toString('utf8'));
  } catch (e) {
    throw ofsError('OFS_INFER_JSON', e instanceof Error ? e.message : String(e));
  }
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
  return { kind: 'json', request, binary };
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
  readonly body: Buffer;
  /** Set when any output is binary: the JSON length for Inference-Header-Content-Length. */
  readonly headerLength?: number;
  readonly contentType: string;
}

function outputJson(o: EncodableOutput): string {
  const t = o.tensor;
  // Key order as Triton writes it: name, datatype, shape, parameters, data.
  let text = `{"name":${JSON.stringify(t.name)},"datatype":${JSON.stringify(t.datatype)},"shape":${JSON.stringify(t.shape)}`;
  const params: V2Parameters = { ...(o.parameters ?? {}) };
  if (o.binary) params.binary_data_size = t.data.length;
  if (Object.keys(params).length > 0) text += `,"parameters":${JSON.stringify(params)}`;
  if (!o.binary) text += `,"data":${tensorToJsonText(t)}`;
  return `${text}}`;
}

/** Builds the response body: JSON only, or JSON followed by the binary outputs in `outputs` order. */
export function encodeInferResponse(response: EncodableResponse): EncodedBody {
  let json = '{';
  if (response.id) json += `"id":${JSON.stringify(response.id)},`;
  json += `"model_name":${JSON.stringify(response.model_name)},"model_version":${JSON.stringify(response.model_version)}`;
  if (response.parameters && Object.keys(response.parameters).length > 0) {
    json += `,"parameters":${JSON.stringify(response.parameters)}`;
  }
  json += `,"outputs":[${response.outputs.map(outputJson).join(',')}]}`;
  const header = Buffer.from(json, 'utf8');
  const binaries = response.outputs.filter((o) => o.binary && o.tensor.data.length > 0);
  if (!response.outputs.some((o) => o.binary)) {
    return { body: header, contentType: 'application/json' };
  }
  const body = Buffer.concat([header, ...binaries.map((o) => o.tensor.data)]);
  return { body, headerLength: header.length, contentType: 'application/octet-stream' };
}
