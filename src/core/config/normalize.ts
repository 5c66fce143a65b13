import { PLATFORM_ENSEMBLE } from './constants.js';
import type { ModelConfig, ModelInstanceGroup, ModelInput, ModelOutput } from './model-config.js';

export interface NormalizeContext {
  /** The model's folder name, which Triton uses when the config has no name. */
  readonly modelName: string;
  /** Whether a usable GPU was found; decides KIND_AUTO and the default instance group. */
  readonly gpuAvailable: boolean;
}

/**
 * Fills the defaults Triton's core fills before a model loads (name, version policy, max_batch_size,
 * instance groups) and the per-field defaults consumers would otherwise repeat. Pure: the input is not
 * touched; the result is deeply frozen. A KIND_GPU group stays KIND_GPU even without a GPU: whether
 * that is an error or a CPU fallback is the server's decision (--strict), not the config's.
 * What needs the model files (backend, platform, default_model_filename, inputs/outputs) is left to
 * the repository layer.
 */
export function normalizeConfig(config: ModelConfig, ctx: NormalizeContext): ModelConfig {
  const c = structuredClone(config) as ModelConfig;
  const name = c.name || ctx.modelName;
  c.name = name;
  const policy = c.version_policy;
  if (!policy || (!policy.latest && !policy.all && !policy.specific)) c.version_policy = { latest: { num_versions: 1 } };
  c.max_batch_size ??= 0;
  c.input = (c.input ?? []).map(normalizeInput);
  c.output = (c.output ?? []).map(normalizeOutput);
  // An ensemble runs no instance of its own (Triton leaves its instance_group empty).
  c.instance_group = c.platform === PLATFORM_ENSEMBLE ? [] : normalizeGroups(c.instance_group, name, ctx.gpuAvailable);
  c.parameters ??= {};
  if (c.dynamic_batching) {
    const d = c.dynamic_batching;
    d.preferred_batch_size ??= [];
    d.max_queue_delay_microseconds ??= 0;
    d.preserve_ordering ??= false;
    d.priority_levels ??= 0;
    d.default_priority_level ??= 0;
  }
  return deepFreeze(c);
}

function normalizeInput(input: ModelInput): ModelInput {
  return { format: 'FORMAT_NONE', is_shape_tensor: false, allow_ragged_batch: false, optional: false, ...input };
}

function normalizeOutput(output: ModelOutput): ModelOutput {
  return { is_shape_tensor: false, ...output };
}

function normalizeGroups(groups: ModelInstanceGroup[] | undefined, model: string, gpu: boolean): ModelInstanceGroup[] {
  const deviceKind = gpu ? 'KIND_GPU' : 'KIND_CPU';
  // Triton's auto-created group is named after the model alone; listed groups get <model>_<index>.
  if (!groups || groups.length === 0) return [{ name: model, kind: deviceKind, count: 1, gpus: [], passive: false }];
  return groups.map((g, i) => ({
    ...g,
    name: g.name || `${model}_${i}`,
    kind: !g.kind || g.kind === 'KIND_AUTO' ? deviceKind : g.kind,
    // proto3 cannot tell count 0 from unset, so 0 takes the default as in Triton.
    count: g.count || 1,
    gpus: g.gpus ?? [],
    passive: g.passive ?? false,
  }));
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
