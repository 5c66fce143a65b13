import type { ConfigDataType } from '../tensor/dtype.js';

/**
 * Triton's ModelConfig as plain objects: proto field names (snake_case), enums as their names, int64 as
 * numbers. This is the shape `parsePbtxt` returns, `printPbtxt` takes, and GET /v2/models/{m}/config
 * serves. Field numbers live in `model_config.proto` next to this file (compatible with Triton's).
 * Every field is optional here because text format may omit any; `normalizeConfig` fills defaults.
 */

export type TensorFormat = 'FORMAT_NONE' | 'FORMAT_NHWC' | 'FORMAT_NCHW';
export type InstanceKind = 'KIND_AUTO' | 'KIND_GPU' | 'KIND_CPU' | 'KIND_MODEL';

export interface ModelTensorReshape {
  shape?: number[];
}

export interface ModelInput {
  name?: string;
  data_type?: ConfigDataType | 'TYPE_INVALID';
  format?: TensorFormat;
  dims?: number[];
  reshape?: ModelTensorReshape;
  is_shape_tensor?: boolean;
  allow_ragged_batch?: boolean;
  optional?: boolean;
  is_non_linear_format_io?: boolean;
}

export interface ModelOutput {
  name?: string;
  data_type?: ConfigDataType | 'TYPE_INVALID';
  dims?: number[];
  reshape?: ModelTensorReshape;
  label_filename?: string;
  is_shape_tensor?: boolean;
  is_non_linear_format_io?: boolean;
}

export interface ModelVersionPolicy {
  latest?: { num_versions?: number };
  all?: Record<string, never>;
  specific?: { versions?: number[] };
}

export interface ModelInstanceGroup {
  name?: string;
  kind?: InstanceKind;
  count?: number;
  gpus?: number[];
  profile?: string[];
  passive?: boolean;
  host_policy?: string;
  rate_limiter?: ModelRateLimiter;
}

export interface ModelRateLimiter {
  resources?: { name?: string; global?: boolean; count?: number }[];
  priority?: number;
}

export interface ModelQueuePolicy {
  timeout_action?: 'REJECT' | 'DELAY';
  default_timeout_microseconds?: number;
  allow_timeout_override?: boolean;
  max_queue_size?: number;
}

export interface ModelDynamicBatching {
  preferred_batch_size?: number[];
  max_queue_delay_microseconds?: number;
  preserve_ordering?: boolean;
  priority_levels?: number;
  default_priority_level?: number;
  default_queue_policy?: ModelQueuePolicy;
  /** Keyed by priority level (text format map keys arrive as strings). */
  priority_queue_policy?: Record<string, ModelQueuePolicy>;
}

export interface ModelEnsemblingStep {
  model_name?: string;
  /** -1 (or unset): the latest version the composing model serves. */
  model_version?: number;
  /** Composing model's input name → ensemble tensor name. */
  input_map?: Record<string, string>;
  /** Composing model's output name → ensemble tensor name. */
  output_map?: Record<string, string>;
  model_namespace?: string;
}

export interface ModelEnsembling {
  step?: ModelEnsemblingStep[];
}

export interface ModelParameter {
  string_value?: string;
}

export interface ModelWarmupInput {
  data_type?: ConfigDataType | 'TYPE_INVALID';
  dims?: number[];
  zero_data?: boolean;
  random_data?: boolean;
  input_data_file?: string;
}

export interface ModelWarmup {
  name?: string;
  batch_size?: number;
  inputs?: Record<string, ModelWarmupInput>;
  count?: number;
}

export interface ModelConfig {
  name?: string;
  platform?: string;
  backend?: string;
  version_policy?: ModelVersionPolicy;
  max_batch_size?: number;
  input?: ModelInput[];
  output?: ModelOutput[];
  instance_group?: ModelInstanceGroup[];
  default_model_filename?: string;
  dynamic_batching?: ModelDynamicBatching;
  ensemble_scheduling?: ModelEnsembling;
  parameters?: Record<string, ModelParameter>;
  model_warmup?: ModelWarmup[];
  model_transaction_policy?: { decoupled?: boolean };
  response_cache?: { enable?: boolean };
  /** Fields of Triton's ModelConfig that ofserve parses and round-trips but does not act on. */
  [field: string]: unknown;
}
