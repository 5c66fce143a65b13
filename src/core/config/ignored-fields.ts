import type { ModelConfig, ModelInput, ModelOutput } from './model-config.js';
import { BACKEND_ONEFLOW, BACKEND_ONNXRUNTIME, CLASSIFY_DEFAULT_PARAMETER } from './constants.js';
import { backendOf } from './backend-of.js';
import { INTRA_OP_ALLOW_SPINNING, INTRA_OP_THREAD_COUNT } from './thread-parameters.js';

/**
 * The fields of config.pbtxt that ofserve parses (so a Triton or OneFlow-Serving config loads) but does
 * not act on, each with what ofserve does instead. `validate` turns every hit into a warning and
 * `serve` logs it when the model loads, so nothing in a config is silently ignored.
 *
 * What the code acts on, for the record (model_config.proto): name, platform, backend,
 * version_policy, max_batch_size, input (name, data_type, format, dims, optional), output (name,
 * data_type, dims, label_filename), instance_group (name, kind, count, gpus), default_model_filename,
 * dynamic_batching (preferred_batch_size, max_queue_delay_microseconds, preserve_ordering,
 * priority_levels, default_priority_level, default_queue_policy, priority_queue_policy), model_warmup,
 * response_cache, parameters["intra_op_thread_count"] and parameters["session.intra_op.allow_spinning"]
 * (onnxruntime and oneflow backends).
 * Everything else is in the table below. Fields the parser refuses outright (sequence_batching,
 * model_operations, …) never get this far.
 */

export interface IgnoredField {
  /** Where it is, as `validate` names fields: `optimization.cuda`, `input[0].reshape`, `parameters["xrt"]`. */
  readonly field: string;
  /** What ofserve does instead. */
  readonly instead: string;
}

interface Rule {
  /** The field paths set in `config` that this rule covers. */
  readonly find: (config: ModelConfig) => string[];
  readonly instead: string;
}

/** Enum values that are proto3's zero default, i.e. "not set". */
const ENUM_DEFAULTS: ReadonlySet<unknown> = new Set(['PRIORITY_DEFAULT']);

const set = (v: unknown): boolean => {
  if (v === undefined || v === null || v === false || v === '' || v === 0 || ENUM_DEFAULTS.has(v)) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.values(v as object).some(set);
  return true;
};

const top = (key: keyof ModelConfig & string) => (c: ModelConfig): string[] => (set(c[key]) ? [key] : []);
const sub = (key: string, child: string) => (c: ModelConfig): string[] =>
  set((c[key] as Record<string, unknown> | undefined)?.[child]) ? [`${key}.${child}`] : [];
const io = (side: 'input' | 'output', child: keyof ModelInput & keyof ModelOutput) => (c: ModelConfig): string[] =>
  ((c[side] ?? []) as (ModelInput | ModelOutput)[]).flatMap((x, i) =>
    // A reshape to a scalar is `reshape { shape: [] }`: its presence is the setting.
    (child === 'reshape' ? x.reshape !== undefined : set(x[child])) ? [`${side}[${i}].${child}`] : [],
  );
const inputOnly = (child: keyof ModelInput) => (c: ModelConfig): string[] =>
  (c.input ?? []).flatMap((x, i) => (set(x[child]) ? [`input[${i}].${child}`] : []));
const group = (child: 'profile' | 'passive' | 'host_policy' | 'rate_limiter') => (c: ModelConfig): string[] =>
  (c.instance_group ?? []).flatMap((g, i) => (set(g[child]) ? [`instance_group[${i}].${child}`] : []));

const OPTIMIZATION_INSTEAD =
  'ofserve runs onnxruntime with all graph optimizations on the CPU, or its own CUDA backend, and takes no tuning from the config';

/** The table: one row per field ofserve accepts without acting on it. */
const RULES: readonly Rule[] = [
  { find: top('runtime'), instead: 'the backend is chosen from `backend` / `platform`; the runtime library name is not used' },
  { find: top('cc_model_filenames'), instead: 'the model file is `default_model_filename` (or the backend default) on every device' },
  { find: top('metric_tags'), instead: 'metrics carry only the `model` and `version` labels' },
  { find: sub('model_transaction_policy', 'decoupled'), instead: 'every request gets exactly one response (decoupled models are not supported)' },
  ...(['graph', 'priority', 'cuda', 'execution_accelerators', 'input_pinned_memory', 'output_pinned_memory',
    'gather_kernel_buffer_threshold', 'eager_batching'] as const).map((k) => ({ find: sub('optimization', k), instead: OPTIMIZATION_INSTEAD })),
  { find: io('input', 'reshape'), instead: 'tensors reach the model with the shape the request sends (dims); no reshape is applied' },
  { find: io('output', 'reshape'), instead: 'outputs are returned with the shape the model produces; no reshape is applied' },
  { find: io('input', 'is_shape_tensor'), instead: 'the input is treated as an ordinary tensor (shape tensors are a TensorRT feature)' },
  { find: io('output', 'is_shape_tensor'), instead: 'the output is treated as an ordinary tensor (shape tensors are a TensorRT feature)' },
  { find: io('input', 'is_non_linear_format_io'), instead: 'tensors are passed in linear (row-major) layout' },
  { find: io('output', 'is_non_linear_format_io'), instead: 'tensors are returned in linear (row-major) layout' },
  { find: inputOnly('allow_ragged_batch'), instead: 'the dynamic batcher only batches requests whose shapes match' },
  { find: group('rate_limiter'), instead: 'instances run whenever they are free; there is no resource-based rate limiting' },
  { find: group('profile'), instead: 'optimization profiles are a TensorRT feature; every instance runs the whole model' },
  { find: group('passive'), instead: 'passive instances are loaded and receive requests like the others' },
  { find: group('host_policy'), instead: 'instances use the default host settings' },
];

/** Parameter keys each backend reads; parameters of other backends are theirs to check. */
const PARAMETERS_READ: Readonly<Record<string, readonly string[]>> = {
  [BACKEND_ONEFLOW]: [INTRA_OP_THREAD_COUNT, INTRA_OP_ALLOW_SPINNING],
  [BACKEND_ONNXRUNTIME]: [INTRA_OP_THREAD_COUNT, INTRA_OP_ALLOW_SPINNING],
};

/** What ofserve does instead of a parameter its backend does not read; OneFlow-Serving's keys by name. */
function parameterInstead(key: string, backend: string): string {
  if (key === 'xrt') {
    return 'OneFlow XRT (TensorRT / OpenVINO / XLA) is not used: the model runs on onnxruntime on the CPU, or on ofserve\'s CUDA backend for KIND_GPU';
  }
  const read = PARAMETERS_READ[backend] ?? [];
  return read.length === 0 ? `backend '${backend}' reads no parameters, so this one has no effect` : `backend '${backend}' reads only ${read.join(', ')}, so this one has no effect`;
}

/** Every field set in `config` that ofserve does not act on, in table order, then parameters by key. */
export function ignoredFields(config: ModelConfig): IgnoredField[] {
  const out: IgnoredField[] = [];
  for (const rule of RULES) for (const field of rule.find(config)) out.push({ field, instead: rule.instead });
  const backend = backendOf(config);
  const read = backend !== undefined ? PARAMETERS_READ[backend] : undefined;
  if (backend !== undefined && read) {
    for (const key of Object.keys(config.parameters ?? {})) {
      if (!read.includes(key) && key !== CLASSIFY_DEFAULT_PARAMETER) out.push({ field: `parameters[${JSON.stringify(key)}]`, instead: parameterInstead(key, backend) });
    }
  }
  return out;
}
