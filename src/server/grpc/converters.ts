import { ofsError } from '../../errors.js';
import type { ModelConfig } from '../../core/config/model-config.js';
import type {
  V2ModelMetadata,
  V2Parameters,
  V2RepositoryIndexEntry,
  V2ServerMetadata,
  V2StatisticsResponse,
} from '../../protocol/v2-types.js';
import type { DataPlaneInferRequest, DataPlaneInferResponse, InferInputData, RequestedOutput } from '../dataplane.js';
import type {
  GrpcModelConfigResponse,
  GrpcModelIndex,
  GrpcModelInferRequest,
  GrpcModelInferResponse,
  GrpcModelMetadataResponse,
  GrpcModelStatisticsResponse,
  GrpcParameters,
  GrpcRepositoryIndexResponse,
  GrpcRequestedOutputTensor,
  GrpcServerMetadataResponse,
} from './messages.js';
import { contentsToBytes } from './tensor-contents.js';
import { parameterFromGrpc, parametersFromGrpc, parametersToGrpc } from '../../protocol/grpc-parameters.js';

/**
 * grpc_service.proto messages ⇄ DataPlane calls and results: requests are turned into what the data
 * plane takes, data-plane results into response messages. Everything the data plane checks (names,
 * datatypes, shapes, byte sizes) is left to it, so HTTP and gRPC report the same errors.
 */

/** The request parameter triton_cli's streaming client sets; the answer is triton_final_response. */
export const ENABLE_EMPTY_FINAL_RESPONSE = 'triton_enable_empty_final_response';
export const FINAL_RESPONSE = 'triton_final_response';

// ── parameters ───────────────────────────────────────────────────────────────────────────────────

// ── ModelInferRequest → DataPlaneInferRequest ────────────────────────────────────────────────────

function refuseSharedMemory(tensor: string, params: GrpcParameters | undefined): void {
  if (params && Object.hasOwn(params, 'shared_memory_region')) {
    throw ofsError('OFS_PROTOCOL_UNSUPPORTED', `shared memory is not supported by this server (tensor '${tensor}')`);
  }
}

/** Triton's gRPC rule: classification must be an int64_param greater than 0. */
function classificationOf(output: GrpcRequestedOutputTensor): number | undefined {
  const p = output.parameters?.classification;
  if (p === undefined) return undefined;
  if (p.parameter_choice !== 'int64_param') {
    throw ofsError('OFS_INFER_OUTPUT', "invalid value type for 'classification' parameter, expected int64_param");
  }
  const k = Number(p.int64_param ?? 0);
  if (k <= 0) throw ofsError('OFS_INFER_OUTPUT', "invalid value for 'classification' parameter, expected >= 0");
  return k;
}

function outputsFromGrpc(outputs: readonly GrpcRequestedOutputTensor[] | undefined): RequestedOutput[] | undefined {
  if (!outputs || outputs.length === 0) return undefined;
  return outputs.map((o) => {
    const name = o.name ?? '';
    refuseSharedMemory(name, o.parameters);
    const k = classificationOf(o);
    return k === undefined ? { name } : { name, classification: k };
  });
}

/**
 * Input data comes from each input's typed `contents` or, in input order, from `raw_input_contents`;
 * a request may not mix the two (Triton's rule), and every raw entry must belong to an input.
 */
function inputsFromGrpc(request: GrpcModelInferRequest, model: string): InferInputData[] {
  const inputs = request.inputs ?? [];
  const raw = request.raw_input_contents ?? [];
  let next = 0;
  const converted = inputs.map((input): InferInputData => {
    const name = input.name ?? '';
    const datatype = input.datatype ?? '';
    refuseSharedMemory(name, input.parameters);
    let data: Uint8Array;
    if (input.contents) {
      if (raw.length > 0) {
        throw ofsError(
          'OFS_INFER_INPUT',
          `contents field must not be specified when using raw_input_contents for '${name}' for model '${model}'`,
        );
      }
      data = contentsToBytes(name, datatype, input.contents);
    } else if (next < raw.length) {
      data = raw[next++];
    } else {
      throw ofsError('OFS_INFER_INPUT', `unable to find data for input tensor '${name}' for model '${model}' in request.`);
    }
    return { name, datatype, shape: (input.shape ?? []).map(Number), data };
  });
  if (next < raw.length) {
    throw ofsError('OFS_INFER_INPUT', `expected ${next} raw_input_contents for model '${model}', got ${raw.length}`);
  }
  return converted;
}

export function inferRequestFromGrpc(request: GrpcModelInferRequest, receivedNs?: bigint): DataPlaneInferRequest {
  const model = request.model_name ?? '';
  const outputs = outputsFromGrpc(request.outputs);
  return {
    model,
    version: request.model_version || undefined,
    id: request.id || undefined,
    parameters: parametersFromGrpc(request.parameters),
    inputs: inputsFromGrpc(request, model),
    ...(outputs ? { outputs } : {}),
    ...(receivedNs !== undefined ? { receivedNs } : {}),
  };
}

/** The streaming client asked for triton_final_response on its last response. */
export function wantsFinalFlag(request: GrpcModelInferRequest): boolean {
  const p = request.parameters?.[ENABLE_EMPTY_FINAL_RESPONSE];
  return p !== undefined && parameterFromGrpc(p) === true;
}

// ── DataPlaneInferResponse → ModelInferResponse ──────────────────────────────────────────────────

/**
 * Outputs travel only in raw_output_contents, one entry per output in order: tritonclient's
 * as_numpy decodes nothing else (typed contents come back as empty arrays).
 */
export function inferResponseToGrpc(response: DataPlaneInferResponse, parameters?: V2Parameters): GrpcModelInferResponse {
  return {
    model_name: response.model_name,
    model_version: response.model_version,
    id: response.id ?? '',
    parameters: parametersToGrpc(parameters),
    outputs: response.outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: [...t.shape] })),
    raw_output_contents: response.outputs.map((t) => t.data),
  };
}

// ── metadata, config, statistics, repository ─────────────────────────────────────────────────────

export function serverMetadataToGrpc(metadata: V2ServerMetadata): GrpcServerMetadataResponse {
  return { name: metadata.name, version: metadata.version, extensions: [...metadata.extensions] };
}

export function modelMetadataToGrpc(metadata: V2ModelMetadata): GrpcModelMetadataResponse {
  const tensor = (t: V2ModelMetadata['inputs'][number]) => ({ name: t.name, datatype: t.datatype, shape: [...t.shape] });
  return {
    name: metadata.name,
    versions: [...metadata.versions],
    platform: metadata.platform,
    inputs: metadata.inputs.map(tensor),
    outputs: metadata.outputs.map(tensor),
  };
}

/** The plain ModelConfig is already in proto field names; the serializer's fromObject does the rest. */
export function modelConfigToGrpc(config: ModelConfig): GrpcModelConfigResponse {
  return { config };
}

export function statisticsToGrpc(stats: V2StatisticsResponse): GrpcModelStatisticsResponse {
  return {
    model_stats: stats.model_stats.map((s) => ({
      name: s.name,
      version: s.version,
      last_inference: s.last_inference,
      inference_count: s.inference_count,
      execution_count: s.execution_count,
      inference_stats: { ...s.inference_stats },
      batch_stats: s.batch_stats.map((b) => ({ ...b })),
      memory_usage: s.memory_usage.map((m) => ({ ...m })),
      response_stats: {},
    })),
  };
}

export function repositoryIndexToGrpc(entries: readonly V2RepositoryIndexEntry[]): GrpcRepositoryIndexResponse {
  return {
    models: entries.map((e): GrpcModelIndex => ({ name: e.name, version: e.version ?? '', state: e.state, reason: e.reason ?? '' })),
  };
}
