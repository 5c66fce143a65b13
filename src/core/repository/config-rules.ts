import type { ModelConfig, ModelInput, ModelOutput } from '../config/model-config.js';
import {
  BACKEND_IMAGE,
  BACKEND_ONEFLOW,
  BACKEND_ONNXRUNTIME,
  ONEFLOW_INPUT_PATTERN,
  ONEFLOW_OUTPUT_PATTERN,
  PLATFORM_ENSEMBLE,
  PLATFORM_ONNX,
} from '../config/constants.js';
import { dtypeFromConfig } from '../tensor/dtype.js';
import { ignoredFields } from '../config/ignored-fields.js';
import { INTRA_OP_ALLOW_SPINNING, INTRA_OP_THREAD_COUNT, MAX_INTRA_OP_THREADS, intraOpSpinning, intraOpThreads } from '../config/thread-parameters.js';
import type { Problem } from '../problem.js';
import { ERRORS } from '../../errors.js';

/**
 * Rules on config.pbtxt alone (no files, no model): each takes the parsed config and returns every
 * problem it sees. The I/O that gathers configs lives in validate.ts.
 */

export interface RuleContext {
  /** The model folder name. */
  readonly model: string;
  /** config.pbtxt as shown to the user. */
  readonly file: string;
}

/** An error-severity problem in the rule context's config file. */
export const error = (ctx: RuleContext, field: string, message: string, fix: string): Problem => ({
  severity: 'error',
  file: ctx.file,
  field,
  message,
  fix,
});

export function checkModelName(config: ModelConfig, ctx: RuleContext): Problem[] {
  if (config.name === undefined || config.name === '' || config.name === ctx.model) return [];
  return [
    error(
      ctx,
      'name',
      `unexpected directory name '${ctx.model}' for model '${config.name}', directory name must equal model name`,
      `set name: "${ctx.model}", or rename the folder to ${config.name}`,
    ),
  ];
}

export function checkBackend(config: ModelConfig, ctx: RuleContext): Problem[] {
  const problems: Problem[] = [];
  const backend = config.backend ?? '';
  const platform = config.platform ?? '';
  if (backend !== '' && backend !== BACKEND_ONEFLOW && backend !== BACKEND_ONNXRUNTIME && backend !== BACKEND_IMAGE) {
    problems.push(error(ctx, 'backend', ERRORS.OFS_BACKEND_UNKNOWN.message(backend), ERRORS.OFS_BACKEND_UNKNOWN.fix ?? ''));
  }
  if (platform === PLATFORM_ENSEMBLE) {
    if (backend !== '') {
      problems.push(error(ctx, 'backend', `an ensemble (platform "${PLATFORM_ENSEMBLE}") has no backend, but backend "${backend}" is set`, 'remove backend'));
    }
  } else if (platform !== '' && platform !== PLATFORM_ONNX) {
    problems.push(
      error(
        ctx,
        'platform',
        `unknown platform '${platform}': ofserve runs platform "${PLATFORM_ONNX}" or "${PLATFORM_ENSEMBLE}", or backend "${BACKEND_ONEFLOW}"`,
        `remove platform and set backend: "${BACKEND_ONEFLOW}" or "${BACKEND_ONNXRUNTIME}"`,
      ),
    );
  } else if (platform === PLATFORM_ONNX && backend === BACKEND_ONEFLOW) {
    problems.push(
      error(
        ctx,
        'platform',
        `platform "${PLATFORM_ONNX}" contradicts backend "${BACKEND_ONEFLOW}"`,
        'remove platform (backend decides) or set backend: "onnxruntime"',
      ),
    );
  }
  return problems;
}

type Io = { readonly side: 'input' | 'output'; readonly index: number; readonly io: ModelInput | ModelOutput };

function ios(config: ModelConfig): Io[] {
  return [
    ...(config.input ?? []).map((io, index) => ({ side: 'input' as const, index, io })),
    ...(config.output ?? []).map((io, index) => ({ side: 'output' as const, index, io })),
  ];
}

/** max_batch_size, and every input/output having a name, a data type and sensible dims. */
export function checkIoDeclarations(config: ModelConfig, ctx: RuleContext): Problem[] {
  const problems: Problem[] = [];
  const mbs = config.max_batch_size ?? 0;
  if (mbs < 0) {
    problems.push(error(ctx, 'max_batch_size', `max_batch_size is ${mbs}; it must be 0 (no batching) or more`, 'set max_batch_size: 0, or the largest batch the model takes'));
  }
  for (const side of ['input', 'output'] as const) {
    if ((config[side] ?? []).length === 0) {
      problems.push(
        error(ctx, side, `the config declares no ${side}s`, `list the model's ${side}s with name, data_type and dims (\`ofserve init\` writes them from the model)`),
      );
    }
  }
  const seen = new Set<string>();
  for (const { side, index, io } of ios(config)) {
    const at = `${side}[${index}]`;
    if (!io.name) {
      problems.push(error(ctx, `${at}.name`, `${side} ${index} has no name`, `give it the name of the model's ${side}`));
    } else if (seen.has(`${side}:${io.name}`) && config.backend !== BACKEND_ONEFLOW) {
      problems.push(error(ctx, `${at}.name`, `${side} name '${io.name}' is declared twice`, `declare each ${side} once`));
    }
    if (io.name) seen.add(`${side}:${io.name}`);
    if (!io.data_type || io.data_type === 'TYPE_INVALID' || !dtypeFromConfig(io.data_type)) {
      problems.push(error(ctx, `${at}.data_type`, `${side} '${io.name ?? index}' has no valid data_type`, 'set data_type, e.g. TYPE_FP32'));
    }
    const dims = io.dims ?? [];
    if (dims.length === 0 && mbs === 0) {
      problems.push(
        error(ctx, `${at}.dims`, `${side} '${io.name ?? index}' has no dims`, 'set dims to the tensor shape (without the batch dimension when max_batch_size > 0)'),
      );
    }
    const bad = dims.filter((d) => !Number.isInteger(d) || d < -1 || d === 0);
    if (bad.length > 0) {
      problems.push(
        error(ctx, `${at}.dims`, `${side} '${io.name ?? index}' has dims [${dims.join(', ')}]; each must be a positive size or -1 (any size)`, 'fix the dims to the model shape'),
      );
    }
  }
  return problems;
}

/**
 * The oneflow backend binds config tensors to the graph's by position: INPUT_<i> is the i-th input and
 * OUTPUT_<i> the i-th output (OneFlow-Serving's rule), so names must follow that pattern with every
 * index in [0, count) used once.
 */
export function checkOneflowIoNames(config: ModelConfig, ctx: RuleContext): Problem[] {
  if (config.backend !== BACKEND_ONEFLOW) return [];
  const problems: Problem[] = [];
  for (const side of ['input', 'output'] as const) {
    const list = config[side] ?? [];
    const prefix = side === 'input' ? 'INPUT' : 'OUTPUT';
    const pattern = side === 'input' ? ONEFLOW_INPUT_PATTERN : ONEFLOW_OUTPUT_PATTERN;
    const used = new Map<number, number>();
    list.forEach((io, i) => {
      const field = `${side}[${i}].name`;
      const m = io.name ? pattern.exec(io.name) : null;
      if (!io.name) return; // reported by checkIoDeclarations
      if (!m || (m[1].length > 1 && m[1].startsWith('0'))) {
        problems.push(
          error(
            ctx,
            field,
            `${side} name '${io.name}' does not follow the oneflow backend's rule: ${side}s are named ${prefix}_<i>, i being the position of the model's ${side}`,
            `rename it ${prefix}_${i}`,
          ),
        );
        return;
      }
      const index = Number(m[1]);
      if (index >= list.length) {
        problems.push(
          error(
            ctx,
            field,
            `${io.name} is out of range: the config declares ${list.length} ${side}${list.length === 1 ? '' : 's'}, so ${prefix}_<i> runs from ${prefix}_0 to ${prefix}_${list.length - 1}`,
            `number the ${side}s ${prefix}_0 … ${prefix}_${list.length - 1} in the order of the model's ${side}s`,
          ),
        );
      }
      const first = used.get(index);
      if (first !== undefined) {
        problems.push(error(ctx, field, `${io.name} is declared twice (${side}[${first}] and ${side}[${i}])`, `give each ${side} its own index`));
      } else {
        used.set(index, i);
      }
    });
  }
  return problems;
}

/**
 * TYPE_STRING (BYTES) tensors: neither backend runs them (the onnxruntime worker and the GPU plan move
 * numeric buffers only), so such a model would load READY and then fail every request. It is refused
 * here, which makes both `validate` and the load say so.
 */
export function checkRunnableDataTypes(config: ModelConfig, ctx: RuleContext): Problem[] {
  // The image backend's input is BYTES by design (its own rules check it); an ensemble runs nothing
  // itself, and the ensemble rules check each of its tensors against the step that reads it.
  if (config.platform === PLATFORM_ENSEMBLE) return [];
  return ios(config)
    .filter(({ side, io }) => io.data_type === 'TYPE_STRING' && !(side === 'input' && config.backend === BACKEND_IMAGE))
    .map(({ side, index, io }) =>
      error(
        ctx,
        `${side}[${index}].data_type`,
        `${side} '${io.name ?? index}' is TYPE_STRING: ofserve's backends run numeric tensors only, so the model could not answer any request`,
        side === 'input'
          ? 'export the model with a numeric input (e.g. an FP32 image tensor), put a backend: "image_preprocess" step before it in an ensemble to take encoded images, or serve it with tritonserver'
          : 'export the model with numeric outputs (class scores) and map them to names with label_filename, or serve it with tritonserver',
      ),
    );
}

/** Instances per instance_group that ofserve will create. */
export const MAX_INSTANCE_COUNT = 256;

/**
 * instance_group: counts must be positive; KIND_GPU is only a warning when no GPU is present, because
 * serve falls back to CPU unless --strict (then it is an error, as serve refuses it).
 */
export function checkInstanceGroups(config: ModelConfig, ctx: RuleContext, gpuAvailable?: boolean, strict = false): Problem[] {
  const problems: Problem[] = [];
  (config.instance_group ?? []).forEach((g, i) => {
    if (g.count !== undefined && g.count < 0) {
      problems.push(error(ctx, `instance_group[${i}].count`, `count is ${g.count}; it must be at least 1`, 'set count: 1'));
    }
    // Each instance is a session with its own copy of the weights: a typo such as 1000000 would
    // exhaust memory while loading instead of failing with a message.
    if (g.count !== undefined && g.count > MAX_INSTANCE_COUNT) {
      problems.push(
        error(ctx, `instance_group[${i}].count`, `count is ${g.count}; ofserve runs at most ${MAX_INSTANCE_COUNT} instances per group`, 'use a count no larger than the number of CPU cores or GPUs'),
      );
    }
    if (g.kind === 'KIND_GPU' && gpuAvailable === false) {
      problems.push({
        severity: strict ? 'error' : 'warning',
        file: ctx.file,
        field: `instance_group[${i}].kind`,
        message: 'KIND_GPU is asked for but no usable GPU was found: serve runs the model on CPU (and refuses it with --strict)',
        fix: 'use kind: KIND_CPU on machines without a GPU',
      });
    }
  });
  return problems;
}

/**
 * dynamic_batching as Triton's ValidateModelConfig checks it: preferred sizes within max_batch_size,
 * priority levels in range, and preserve_ordering without several levels or DELAY timeouts.
 */
export function checkDynamicBatching(config: ModelConfig, ctx: RuleContext): Problem[] {
  const db = config.dynamic_batching;
  if (!db) return [];
  const problems: Problem[] = [];
  const mbs = config.max_batch_size ?? 0;
  (db.preferred_batch_size ?? []).forEach((size, i) => {
    if (size <= 0 || size > mbs) {
      problems.push(
        error(
          ctx,
          `dynamic_batching.preferred_batch_size[${i}]`,
          size <= 0 ? `dynamic batching preferred size must be positive, got ${size}` : `dynamic batching preferred size must be <= max batch size (${mbs}), got ${size}`,
          mbs > 0 ? `use sizes from 1 to ${mbs}, or raise max_batch_size` : 'remove preferred_batch_size: a model with max_batch_size 0 runs one request per execution',
        ),
      );
    }
  });
  const levels = Number(db.priority_levels ?? 0);
  if (levels !== 0) {
    const def = Number(db.default_priority_level ?? 0);
    if (def === 0 || def > levels) {
      problems.push(error(ctx, 'dynamic_batching.default_priority_level', `default priority level must be in range [1, ${levels}], got ${def}`, `set default_priority_level to a level from 1 to ${levels}`));
    }
    for (const key of Object.keys(db.priority_queue_policy ?? {})) {
      const level = Number(key);
      if (level === 0 || level > levels) {
        problems.push(
          error(ctx, `dynamic_batching.priority_queue_policy[${key}]`, `priority queue policy must have priority level in range [1, ${levels}], got ${key}`, `key the policy by a level from 1 to ${levels}`),
        );
      }
    }
  }
  if (db.preserve_ordering) {
    if (levels > 1) {
      problems.push(error(ctx, 'dynamic_batching.preserve_ordering', "Only one priority level is allowed when 'preserve_ordering' is true", 'set priority_levels to 0 or 1, or drop preserve_ordering'));
    }
    const policies = [['default_queue_policy', db.default_queue_policy] as const, ...Object.entries(db.priority_queue_policy ?? {}).map(([k, p]) => [`priority_queue_policy[${k}]`, p] as const)];
    for (const [where, p] of policies) {
      if (p && Number(p.default_timeout_microseconds ?? 0) !== 0 && p.timeout_action === 'DELAY') {
        problems.push(error(ctx, `dynamic_batching.${where}.timeout_action`, "Queue policy can not have DELAY as timeout action when 'preserve_ordering' is true", 'use timeout_action: REJECT, or drop preserve_ordering'));
      }
    }
  }
  return problems;
}

/**
 * parameters["intra_op_thread_count"]: a whole number (0 keeps ofserve's share of the cores);
 * parameters["session.intra_op.allow_spinning"]: "1"/"true" or "0"/"false".
 */
export function checkThreadParameters(config: ModelConfig, ctx: RuleContext): Problem[] {
  const problems: Problem[] = [];
  const threads = intraOpThreads(config);
  if (!threads.ok) {
    problems.push(
      error(
        ctx,
        `parameters[${JSON.stringify(INTRA_OP_THREAD_COUNT)}]`,
        `'${threads.text}' is not a thread count from 0 to ${MAX_INTRA_OP_THREADS}`,
        'set string_value to a whole number, e.g. "1" per instance for throughput or the core count for one low-latency instance; "0" or no parameter shares the cores among the instances',
      ),
    );
  }
  const spinning = intraOpSpinning(config);
  if (!spinning.ok) {
    problems.push(
      error(
        ctx,
        `parameters[${JSON.stringify(INTRA_OP_ALLOW_SPINNING)}]`,
        `'${spinning.text}' is not "1", "0", "true" or "false"`,
        'set string_value to "1" to let the intra-op threads spin during runs (lower latency when this model has the cores to itself) or "0" (the default)',
      ),
    );
  }
  return problems;
}

/** One warning per field that is parsed but not acted on (see ignoredFields). */
export function checkIgnoredFields(config: ModelConfig, ctx: RuleContext): Problem[] {
  return ignoredFields(config).map(({ field, instead }) => ({
    severity: 'warning' as const,
    file: ctx.file,
    field,
    message: `ofserve ignores this field: ${instead}`,
    fix: 'remove the field to silence this warning',
  }));
}

/** Every config-only rule. */
export function checkConfig(config: ModelConfig, ctx: RuleContext, opts: { gpuAvailable?: boolean; strict?: boolean } = {}): Problem[] {
  return [
    ...checkModelName(config, ctx),
    ...checkBackend(config, ctx),
    ...checkIoDeclarations(config, ctx),
    ...checkRunnableDataTypes(config, ctx),
    ...checkOneflowIoNames(config, ctx),
    ...checkInstanceGroups(config, ctx, opts.gpuAvailable, opts.strict),
    ...checkDynamicBatching(config, ctx),
    ...checkThreadParameters(config, ctx),
    ...checkIgnoredFields(config, ctx),
  ];
}
