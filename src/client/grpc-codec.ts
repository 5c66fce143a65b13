import type protobuf from 'protobufjs';
import type { ModelConfig } from '../core/config/model-config.js';
import type { InferInput, RequestedOutput } from './infer-input.js';
import { InferResult } from './infer-result.js';
import {
  parametersFromGrpc,
  parametersToGrpc,
  type GrpcParameters,
} from '../protocol/grpc-parameters.js';
import type {
  InferOutputJson,
  InferResponseJson,
  ModelState,
  Parameters,
  RepositoryIndexEntry,
} from './v2-types.js';

/**
 * grpc_service.proto messages as the client builds and reads them, and their conversion to the shapes
 * the HTTP client returns (V2 JSON types, InferResult), so commands never see which protocol ran.
 * Requests are written as tritonclient.grpc writes them: every input in raw_input_contents, in input
 * order; classification as an int64_param.
 */

/** How the client turns decoded messages into plain objects: 64-bit integers as numbers (shapes, counts). */
export const CLIENT_OBJECT_OPTIONS: protobuf.IConversionOptions = {
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
};

/** The parameters map (protocol/grpc-parameters.ts), under the client's name. */
export type GrpcParameterMap = GrpcParameters;

export interface GrpcInferRequestMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters: GrpcParameterMap;
  inputs: { name: string; datatype: string; shape: number[] }[];
  outputs: { name: string; parameters: GrpcParameterMap }[];
  raw_input_contents: Uint8Array[];
}

export interface GrpcInferResponseMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters: GrpcParameterMap;
  outputs: { name: string; datatype: string; shape: number[]; parameters: GrpcParameterMap }[];
  raw_output_contents: Uint8Array[];
}

export interface GrpcInferRequestOptions {
  readonly outputs?: readonly RequestedOutput[];
  readonly version?: string;
  readonly requestId?: string;
  readonly parameters?: Parameters;
}

// ── parameters ───────────────────────────────────────────────────────────────────────────────────

// ── ModelInfer ───────────────────────────────────────────────────────────────────────────────────

export function buildInferRequest(model: string, inputs: readonly InferInput[], options: GrpcInferRequestOptions = {}): GrpcInferRequestMessage {
  return {
    model_name: model,
    model_version: options.version ?? '',
    id: options.requestId ?? '',
    parameters: parametersToGrpc(options.parameters),
    inputs: inputs.map((input) => ({ name: input.name, datatype: input.datatype, shape: [...input.shape] })),
    // Without outputs the server returns every output; there is no binary/JSON choice to make in gRPC.
    outputs: (options.outputs ?? []).map((o) => {
      const parameters: GrpcParameterMap = {};
      if (o.classCount !== undefined && o.classCount > 0) parameters.classification = { int64_param: o.classCount };
      return { name: o.name, parameters };
    }),
    raw_input_contents: inputs.map((input) => input.data),
  };
}

/**
 * The response as the InferResult the HTTP client returns: the outputs' header in KServe JSON form and
 * each output's raw_output_contents entry as its binary data (entry i belongs to output i). An output
 * without a raw entry keeps neither data nor bytes, so its accessors fail with OFS_BAD_RESPONSE.
 */
export function inferResultFromGrpc(response: GrpcInferResponseMessage, url: string): InferResult {
  const binary = new Map<string, Uint8Array>();
  const outputs = response.outputs.map((o, i): InferOutputJson => {
    const raw = response.raw_output_contents[i];
    const parameters: Parameters = { ...parametersFromGrpc(o.parameters) };
    if (raw !== undefined) {
      binary.set(o.name, raw);
      parameters.binary_data_size = raw.byteLength;
    }
    return { name: o.name, datatype: o.datatype, shape: o.shape.map(Number), parameters };
  });
  const json: InferResponseJson = { model_name: response.model_name, model_version: response.model_version, outputs };
  if (response.id) json.id = response.id;
  const parameters = parametersFromGrpc(response.parameters);
  if (parameters) json.parameters = parameters;
  return new InferResult(json, binary, url);
}

// ── repository and configuration ─────────────────────────────────────────────────────────────────

export function repositoryIndexFromGrpc(models: readonly { name: string; version: string; state: string; reason: string }[]): RepositoryIndexEntry[] {
  return models.map((m) => ({
    name: m.name,
    ...(m.version ? { version: m.version } : {}),
    state: m.state as ModelState,
    ...(m.reason ? { reason: m.reason } : {}),
  }));
}

/**
 * A decoded ModelConfig in the HTTP endpoint's shape: every primitive field at its default included,
 * unset message fields (which toObject's defaults give as null) left out.
 */
export function modelConfigFromGrpc(config: unknown): ModelConfig {
  return withoutNulls(config ?? {}) as ModelConfig;
}

function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    // defineProperty, not assignment: a key such as "__proto__" must stay a plain entry.
    if (v !== null && v !== undefined) Object.defineProperty(out, key, { value: withoutNulls(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
