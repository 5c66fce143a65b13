/**
 * KServe v2 / Triton JSON bodies as they travel on the wire (triton-protocol.md §1, §4). Field names
 * are the protocol's (snake_case); shared by the server's HTTP adapter and the HTTP client.
 */

/** A parameter value: Triton's JSON parameters are bool, number or string. */
export type V2ParameterValue = boolean | number | string;
export type V2Parameters = Record<string, V2ParameterValue>;

/**
 * One element of `data`: numbers, bools, strings (BYTES), or nested arrays of them (row-major).
 * INT64/UINT64 values beyond 2^53 are bigint (protocol/json-exact.ts reads and writes them exactly).
 */
export type V2DataElement = number | bigint | boolean | string | null | V2DataElement[];

export interface V2InferInput {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: V2Parameters;
  data?: V2DataElement[];
}

export interface V2RequestedOutput {
  name: string;
  parameters?: V2Parameters;
}

export interface V2InferRequest {
  id?: string;
  parameters?: V2Parameters;
  inputs: V2InferInput[];
  outputs?: V2RequestedOutput[];
}

export interface V2InferOutput {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: V2Parameters;
  data?: V2DataElement[];
}

export interface V2InferResponse {
  id?: string;
  model_name: string;
  model_version: string;
  parameters?: V2Parameters;
  outputs: V2InferOutput[];
}

export interface V2ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

export interface V2TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export interface V2ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: V2TensorMetadata[];
  outputs: V2TensorMetadata[];
}

export interface V2StatisticDuration {
  count: number;
  ns: number;
}

export interface V2InferStatistics {
  success: V2StatisticDuration;
  fail: V2StatisticDuration;
  queue: V2StatisticDuration;
  compute_input: V2StatisticDuration;
  compute_infer: V2StatisticDuration;
  compute_output: V2StatisticDuration;
  cache_hit: V2StatisticDuration;
  cache_miss: V2StatisticDuration;
}

export interface V2BatchStatistics {
  batch_size: number;
  compute_input: V2StatisticDuration;
  compute_infer: V2StatisticDuration;
  compute_output: V2StatisticDuration;
}

export interface V2MemoryUsage {
  type: string;
  id: number;
  byte_size: number;
}

export interface V2ModelStatistics {
  name: string;
  version: string;
  /** Milliseconds since the epoch; 0 before the first inference. */
  last_inference: number;
  inference_count: number;
  execution_count: number;
  inference_stats: V2InferStatistics;
  response_stats: Record<string, never>;
  batch_stats: V2BatchStatistics[];
  memory_usage: V2MemoryUsage[];
}

export interface V2StatisticsResponse {
  model_stats: V2ModelStatistics[];
}

export type V2ModelState = 'UNKNOWN' | 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';

export interface V2RepositoryIndexEntry {
  name: string;
  version?: string;
  state: V2ModelState;
  reason?: string;
}

export interface V2RepositoryIndexRequest {
  ready?: boolean;
}

/** Header names of the binary tensor data extension (Node lowercases incoming header names). */
export const HEADER_INFERENCE_LENGTH = 'inference-header-content-length';
export const HEADER_INFERENCE_LENGTH_OUT = 'Inference-Header-Content-Length';
