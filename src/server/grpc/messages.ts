import type { ModelConfig } from '../../core/config/model-config.js';

/**
 * The plain-object form of grpc_service.proto messages as the handlers see them (decoded with
 * PLAIN_OBJECT_OPTIONS: proto field names, 64-bit integers as decimal strings) and as they hand them
 * to the serializer (which also takes numbers for 64-bit fields). Request fields are optional because
 * a hand-built object may leave any out; decoded requests have them all.
 */

import type { GrpcParameters, Int64 } from '../../protocol/grpc-parameters.js';

export type { GrpcInferParameter, GrpcParameters, InferParameterChoice, Int64 } from '../../protocol/grpc-parameters.js';

export interface GrpcTensorContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: Int64[];
  uint_contents?: number[];
  uint64_contents?: Int64[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Uint8Array[];
}

export interface GrpcInferInputTensor {
  name?: string;
  datatype?: string;
  shape?: Int64[];
  parameters?: GrpcParameters;
  /** null when the message was absent. */
  contents?: GrpcTensorContents | null;
}

export interface GrpcRequestedOutputTensor {
  name?: string;
  parameters?: GrpcParameters;
}

export interface GrpcModelInferRequest {
  model_name?: string;
  model_version?: string;
  id?: string;
  parameters?: GrpcParameters;
  inputs?: GrpcInferInputTensor[];
  outputs?: GrpcRequestedOutputTensor[];
  raw_input_contents?: Uint8Array[];
}

export interface GrpcInferOutputTensor {
  name: string;
  datatype: string;
  shape: Int64[];
  parameters?: GrpcParameters;
}

export interface GrpcModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters: GrpcParameters;
  outputs: GrpcInferOutputTensor[];
  raw_output_contents: Uint8Array[];
}

export interface GrpcModelStreamInferResponse {
  error_message?: string;
  /** With an error, only the failed request's id. */
  infer_response?: Partial<GrpcModelInferResponse>;
}

/** ModelReady, ModelMetadata, ModelConfig and ModelStatistics requests. */
export interface GrpcModelRef {
  name?: string;
  version?: string;
}

export interface GrpcServerMetadataResponse {
  name: string;
  version: string;
  extensions: string[];
}

export interface GrpcTensorMetadata {
  name: string;
  datatype: string;
  shape: Int64[];
}

export interface GrpcModelMetadataResponse {
  name: string;
  versions: string[];
  platform: string;
  inputs: GrpcTensorMetadata[];
  outputs: GrpcTensorMetadata[];
}

export interface GrpcModelConfigResponse {
  config: ModelConfig;
}

export interface GrpcStatisticDuration {
  count: Int64;
  ns: Int64;
}

export interface GrpcInferStatistics {
  success: GrpcStatisticDuration;
  fail: GrpcStatisticDuration;
  queue: GrpcStatisticDuration;
  compute_input: GrpcStatisticDuration;
  compute_infer: GrpcStatisticDuration;
  compute_output: GrpcStatisticDuration;
  cache_hit: GrpcStatisticDuration;
  cache_miss: GrpcStatisticDuration;
}

export interface GrpcBatchStatistics {
  batch_size: Int64;
  compute_input: GrpcStatisticDuration;
  compute_infer: GrpcStatisticDuration;
  compute_output: GrpcStatisticDuration;
}

export interface GrpcMemoryUsage {
  type: string;
  id: Int64;
  byte_size: Int64;
}

export interface GrpcModelStatistics {
  name: string;
  version: string;
  last_inference: Int64;
  inference_count: Int64;
  execution_count: Int64;
  inference_stats: GrpcInferStatistics;
  batch_stats: GrpcBatchStatistics[];
  memory_usage: GrpcMemoryUsage[];
  response_stats: Record<string, never>;
}

export interface GrpcModelStatisticsResponse {
  model_stats: GrpcModelStatistics[];
}

export interface GrpcRepositoryIndexRequest {
  repository_name?: string;
  ready?: boolean;
}

export interface GrpcModelIndex {
  name: string;
  version: string;
  state: string;
  reason: string;
}

export interface GrpcRepositoryIndexResponse {
  models: GrpcModelIndex[];
}

export interface GrpcRepositoryParameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'bytes_param';
  bool_param?: boolean;
  int64_param?: Int64;
  string_param?: string;
  bytes_param?: Uint8Array;
}

export interface GrpcRepositoryModelRequest {
  repository_name?: string;
  model_name?: string;
  parameters?: Record<string, GrpcRepositoryParameter>;
}

export interface GrpcHealthCheckRequest {
  service?: string;
}

export type GrpcServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export interface GrpcHealthCheckResponse {
  status: GrpcServingStatus;
}
