import { ofsError } from '../errors.js';
import type { InferInput, RequestedOutput } from './infer-input.js';
import { stringifyJsonExact } from '../protocol/json-exact.js';
import { tensorToJsonValues } from '../protocol/json-tensor.js';
import type { InferInputJson, InferRequestedOutputJson, InferRequestJson, Parameters } from './v2-types.js';

export interface InferRequestOptions {
  readonly outputs?: readonly RequestedOutput[];
  readonly requestId?: string;
  /** Extra request-level parameters passed through to the model. */
  readonly parameters?: Parameters;
}

export interface EncodedInferRequest {
  /** The compact JSON header followed by the binary input blocks. */
  readonly body: Uint8Array;
  /** Byte length of the JSON part; undefined when no input is binary (body is pure JSON). */
  readonly headerLength: number | undefined;
  readonly json: InferRequestJson;
}

const encoder = new TextEncoder();

/**
 * Encodes an infer request the way tritonclient.http does: compact JSON with key order name, shape,
 * datatype, parameters; binary inputs declare `binary_data_size` and their bytes follow the JSON in
 * input order; requested outputs carry `classification` before `binary_data`; with no outputs given the
 * request asks for every output in binary (`binary_data_output: true`).
 */
export function encodeInferRequest(inputs: readonly InferInput[], options: InferRequestOptions = {}): EncodedInferRequest {
  const blocks: Uint8Array[] = [];
  const inputsJson: InferInputJson[] = inputs.map((input) => {
    const entry: InferInputJson = { name: input.name, shape: [...input.shape], datatype: input.datatype };
    if (input.binaryData ?? true) {
      entry.parameters = { binary_data_size: input.data.byteLength };
      blocks.push(input.data);
    } else {
      if (input.datatype === 'FP16' || input.datatype === 'BF16') {
        throw ofsError('OFS_BAD_ARGUMENT', `input '${input.name}': ${input.datatype} tensors can only travel as binary data`);
      }
      try {
        entry.data = tensorToJsonValues(input.datatype, input.data);
      } catch (e) {
        throw ofsError('OFS_BAD_ARGUMENT', `input '${input.name}': ${(e as Error).message}`);
      }
    }
    return entry;
  });

  const json: InferRequestJson = {} as InferRequestJson;
  if (options.requestId) json.id = options.requestId;
  json.inputs = inputsJson;
  const parameters: Parameters = { ...options.parameters };
  if (options.outputs && options.outputs.length > 0) {
    json.outputs = options.outputs.map(requestedOutputJson);
  } else {
    parameters.binary_data_output = true;
  }
  if (Object.keys(parameters).length > 0) json.parameters = parameters;

  // stringifyJsonExact: INT64/UINT64 data beyond 2^53 goes out digit for digit, as bigint holds it.
  const header = encoder.encode(stringifyJsonExact(json));
  if (blocks.length === 0) return { body: header, headerLength: undefined, json };
  const total = blocks.reduce((n, b) => n + b.byteLength, header.byteLength);
  const body = new Uint8Array(total);
  body.set(header, 0);
  let offset = header.byteLength;
  for (const b of blocks) {
    body.set(b, offset);
    offset += b.byteLength;
  }
  return { body, headerLength: header.byteLength, json };
}

function requestedOutputJson(output: RequestedOutput): InferRequestedOutputJson {
  const parameters: Parameters = {};
  if (output.classCount !== undefined && output.classCount > 0) parameters.classification = output.classCount;
  parameters.binary_data = output.binaryData ?? true;
  return { name: output.name, parameters };
}
