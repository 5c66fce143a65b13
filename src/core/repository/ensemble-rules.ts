import type { ModelConfig, ModelEnsemblingStep } from '../config/model-config.js';
import { PLATFORM_ENSEMBLE } from '../config/constants.js';
import { dtypeFromConfig } from '../tensor/dtype.js';
import type { Problem } from '../problem.js';
import { error, type RuleContext } from './config-rules.js';

/**
 * The checks Triton's ensemble validation makes (ValidateEnsembleConfig): every step names a model of
 * the store and tensors it has, every tensor a step reads is produced exactly once (by an ensemble
 * input or a step), every ensemble output is produced, the steps form no cycle, the types and shapes
 * on each edge agree, and the ensemble batches no more than any composing model. Pure: the composing
 * models' configs come in through `lookup`.
 */

export interface ComposingModel {
  readonly name: string;
  /** As written; undefined when it is missing or unparseable (its own problems say so). */
  readonly config?: ModelConfig;
  /** The versions its version policy serves. */
  readonly versions: readonly number[];
}

export type ComposingLookup = (name: string) => ComposingModel | undefined;

/** A tensor as it travels between steps: its type and full shape (batch dim as -1 when batching). */
interface Port {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** How problems name where it comes from or goes to. */
  readonly where: string;
}

export function isEnsemble(config: ModelConfig | undefined): boolean {
  return config?.platform === PLATFORM_ENSEMBLE;
}

function fullShape(dims: readonly number[] | undefined, maxBatch: number | undefined): number[] {
  return (maxBatch ?? 0) > 0 ? [-1, ...(dims ?? [])] : [...(dims ?? [])];
}

function wire(dataType: string | undefined): string {
  return dtypeFromConfig(dataType ?? '')?.wire ?? String(dataType);
}

const shapeText = (s: readonly number[]): string => `[${s.join(',')}]`;

function shapesAgree(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === -1 || b[i] === -1 || d === b[i]);
}

/** The steps in an order where each runs after the steps it reads from; the rest form a cycle. */
export function orderSteps(steps: readonly ModelEnsemblingStep[]): { order: number[]; cyclic: number[] } {
  const producer = new Map<string, number>();
  steps.forEach((s, i) => {
    for (const t of Object.values(s.output_map ?? {})) if (!producer.has(t)) producer.set(t, i);
  });
  const deps = steps.map((s) => new Set(Object.values(s.input_map ?? {}).flatMap((t) => (producer.has(t) ? [producer.get(t) as number] : []))));
  const done = new Set<number>();
  const order: number[] = [];
  for (let progressed = true; progressed; ) {
    progressed = false;
    steps.forEach((_, i) => {
      if (done.has(i) || [...deps[i]].some((d) => !done.has(d))) return;
      done.add(i);
      order.push(i);
      progressed = true;
    });
  }
  return { order, cyclic: steps.map((_, i) => i).filter((i) => !done.has(i)) };
}

/** Every problem of an ensemble's config against the composing models' configs. */
export function checkEnsemble(config: ModelConfig, ctx: RuleContext, lookup: ComposingLookup): Problem[] {
  const scheduling = config.ensemble_scheduling;
  if (!isEnsemble(config)) {
    return scheduling
      ? [error(ctx, 'ensemble_scheduling', `ensemble_scheduling is set but platform is not "${PLATFORM_ENSEMBLE}"`, `set platform: "${PLATFORM_ENSEMBLE}" and remove backend`)]
      : [];
  }
  const problems: Problem[] = [];
  const steps = scheduling?.step ?? [];
  if (steps.length === 0) {
    problems.push(
      error(ctx, 'ensemble_scheduling.step', `ensemble '${ctx.model}' has no steps`, 'add ensemble_scheduling { step [ { model_name, model_version: -1, input_map, output_map } ] }'),
    );
    return problems;
  }
  if ((config.instance_group ?? []).length > 0) {
    problems.push(error(ctx, 'instance_group', 'an ensemble does not take instance_group: it runs no model itself', 'remove instance_group; set it on the composing models'));
  }
  const ensembleBatch = config.max_batch_size ?? 0;

  // Producers of every ensemble tensor: the ensemble's inputs, then each step's outputs.
  const produced = new Map<string, Port>();
  for (const input of config.input ?? []) {
    if (input.name) produced.set(input.name, { dtype: wire(input.data_type), shape: fullShape(input.dims, ensembleBatch), where: `ensemble input '${input.name}'` });
  }
  const consumed = new Set<string>();
  const stepConfigs: (ModelConfig | undefined)[] = [];

  steps.forEach((step, i) => {
    const at = `ensemble_scheduling.step[${i}]`;
    const name = step.model_name ?? '';
    const composing = name ? lookup(name) : undefined;
    stepConfigs.push(composing?.config);
    if (!name) {
      problems.push(error(ctx, `${at}.model_name`, `step ${i} names no model`, 'set model_name to a model of the model repository'));
    } else if (name === ctx.model) {
      problems.push(error(ctx, `${at}.model_name`, `ensemble '${ctx.model}' uses itself as step ${i}, a cycle`, 'name another model of the repository'));
    } else if (!composing) {
      problems.push(
        error(ctx, `${at}.model_name`, `ensemble '${ctx.model}' uses model '${name}' (step ${i}), which is not in the model repository`, `add the model folder ${name}/, or correct model_name`),
      );
    } else {
      const v = step.model_version ?? -1;
      if (v !== -1 && !composing.versions.includes(v)) {
        problems.push(
          error(
            ctx,
            `${at}.model_version`,
            `step ${i} asks for version ${v} of model '${name}', which serves version${composing.versions.length === 1 ? '' : 's'} [${composing.versions.join(', ')}]`,
            'set model_version: -1 (the latest), or a version the model serves',
          ),
        );
      }
    }
    const c = composing?.config;
    const inputMap = step.input_map ?? {};
    const outputMap = step.output_map ?? {};
    if (Object.keys(outputMap).length === 0) {
      problems.push(error(ctx, `${at}.output_map`, `step ${i} (model '${name}') maps no output, so its result is never used`, 'map at least one output of the model to an ensemble tensor'));
    }
    for (const value of Object.values(inputMap)) consumed.add(value);
    if (c) {
      const inputs = c.input ?? [];
      for (const key of Object.keys(inputMap)) {
        if (!inputs.some((x) => x.name === key)) {
          problems.push(
            error(ctx, `${at}.input_map`, `model '${name}' has no input '${key}' (step ${i})`, `input_map keys are the model's inputs: ${inputs.map((x) => x.name).join(', ')}`),
          );
        }
      }
      for (const input of inputs) {
        if (input.name && !(input.name in inputMap) && !input.optional) {
          problems.push(error(ctx, `${at}.input_map`, `step ${i} gives model '${name}' no value for its input '${input.name}'`, `add input_map { key: "${input.name}" value: "<ensemble tensor>" }`));
        }
      }
      const cBatch = c.max_batch_size ?? 0;
      if (ensembleBatch > 0 && cBatch < ensembleBatch) {
        problems.push(
          error(
            ctx,
            'max_batch_size',
            `ensemble '${ctx.model}' allows batches of ${ensembleBatch}, but its step ${i} model '${name}' only allows max_batch_size ${cBatch}`,
            `set the ensemble's max_batch_size to at most ${cBatch}`,
          ),
        );
      }
    }
    for (const [key, value] of Object.entries(outputMap)) {
      const declared = c?.output?.find((x) => x.name === key);
      if (c && !declared) {
        problems.push(
          error(ctx, `${at}.output_map`, `model '${name}' has no output '${key}' (step ${i})`, `output_map keys are the model's outputs: ${(c.output ?? []).map((x) => x.name).join(', ')}`),
        );
      }
      const previous = produced.get(value);
      if (previous) {
        problems.push(
          error(ctx, `${at}.output_map`, `ensemble tensor '${value}' is produced twice: by ${previous.where} and by step ${i}`, 'give each produced tensor its own name'),
        );
        continue;
      }
      produced.set(value, {
        dtype: declared ? wire(declared.data_type) : '?',
        shape: declared ? fullShape(declared.dims, c?.max_batch_size) : [],
        where: `step ${i} (model '${name}' output '${key}')`,
      });
    }
  });

  // Edges: what each step reads must exist and agree in type and shape.
  steps.forEach((step, i) => {
    const c = stepConfigs[i];
    for (const [key, value] of Object.entries(step.input_map ?? {})) {
      const from = produced.get(value);
      const field = `ensemble_scheduling.step[${i}].input_map`;
      if (!from) {
        problems.push(
          error(ctx, field, `tensor '${value}' read by step ${i} (model '${step.model_name}') is produced by no step and is not an ensemble input`, `add an ensemble input '${value}', or map a step's output to it`),
        );
        continue;
      }
      const input = c?.input?.find((x) => x.name === key);
      if (!input || from.dtype === '?') continue;
      const to: Port = { dtype: wire(input.data_type), shape: fullShape(input.dims, c?.max_batch_size), where: `model '${step.model_name}' input '${key}'` };
      problems.push(...edgeProblems(ctx, field, value, from, to));
    }
  });

  (config.output ?? []).forEach((output, j) => {
    if (!output.name) return;
    const from = produced.get(output.name);
    if (!from) {
      problems.push(error(ctx, `output[${j}]`, `ensemble output '${output.name}' is produced by no step`, `map a step's output to '${output.name}' in its output_map`));
      return;
    }
    if (from.dtype === '?') return;
    const to: Port = { dtype: wire(output.data_type), shape: fullShape(output.dims, ensembleBatch), where: `ensemble output '${output.name}'` };
    problems.push(...edgeProblems(ctx, `output[${j}]`, output.name, from, to));
  });

  const { cyclic } = orderSteps(steps);
  if (cyclic.length > 0) {
    problems.push(
      error(
        ctx,
        'ensemble_scheduling.step',
        `steps ${cyclic.join(', ')} (${cyclic.map((i) => `'${steps[i].model_name}'`).join(', ')}) form a cycle: each waits for a tensor another produces`,
        'break the cycle: a step may only read ensemble inputs and tensors of steps that do not read its own outputs',
      ),
    );
  }

  (config.input ?? []).forEach((input, j) => {
    if (input.name && !consumed.has(input.name)) {
      problems.push({ severity: 'warning', file: ctx.file, field: `input[${j}]`, message: `ensemble input '${input.name}' is read by no step`, fix: 'map it in a step\'s input_map, or remove it' });
    }
  });
  return problems;
}

function edgeProblems(ctx: RuleContext, field: string, tensor: string, from: Port, to: Port): Problem[] {
  const out: Problem[] = [];
  if (from.dtype !== to.dtype) {
    out.push(error(ctx, field, `tensor '${tensor}': ${from.where} is ${from.dtype} but ${to.where} is ${to.dtype}`, 'make both data_type equal'));
  }
  if (!shapesAgree(from.shape, to.shape)) {
    out.push(
      error(
        ctx,
        field,
        `tensor '${tensor}': ${from.where} has shape ${shapeText(from.shape)} but ${to.where} expects ${shapeText(to.shape)} (-1: any size, the batch dimension included)`,
        'make the dims agree (max_batch_size > 0 adds a leading batch dimension)',
      ),
    );
  }
  return out;
}
