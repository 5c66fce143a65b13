/** Triton's Prometheus metric names (triton-protocol.md §4), declared once. */

export const METRIC_NAMES = {
  requestSuccess: 'nv_inference_request_success',
  requestFailure: 'nv_inference_request_failure',
  inferenceCount: 'nv_inference_count',
  execCount: 'nv_inference_exec_count',
  requestDuration: 'nv_inference_request_duration_us',
  queueDuration: 'nv_inference_queue_duration_us',
  computeInputDuration: 'nv_inference_compute_input_duration_us',
  computeInferDuration: 'nv_inference_compute_infer_duration_us',
  computeOutputDuration: 'nv_inference_compute_output_duration_us',
  pendingRequests: 'nv_inference_pending_request_count',
  cacheHits: 'nv_cache_num_hits_per_model',
  cacheMisses: 'nv_cache_num_misses_per_model',
  cacheHitDuration: 'nv_cache_hit_duration_per_model',
  cacheMissDuration: 'nv_cache_miss_duration_per_model',
  cpuUtilization: 'nv_cpu_utilization',
  cpuMemoryTotal: 'nv_cpu_memory_total_bytes',
  cpuMemoryUsed: 'nv_cpu_memory_used_bytes',
} as const;

/** Per model-version label set. */
export const MODEL_LABELS = ['model', 'version'] as const;

/** Values of the `reason` label of nv_inference_request_failure. */
export const FAILURE_REASONS = ['REJECTED', 'CANCELED', 'BACKEND', 'OTHER'] as const;
