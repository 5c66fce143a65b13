import { OfsError, ofsError, toOfsError } from '../../errors.js';
import type { ModelConfig, ModelEnsemblingStep } from '../config/model-config.js';
import type { ModelCatalog, ServedModel } from '../served-model.js';
import type { ComputeDurations, ModelStats } from '../stats/model-stats.js';
import type { Tensor } from '../tensor/tensor.js';
import { Drain, hrClock, type Clock } from './execute.js';
import type { InferRequest, InferResult, RequestTiming, Scheduler } from './scheduler.js';

/**
 * Triton's EnsembleScheduler: an ensemble runs no model itself. A request's tensors flow through the
 * steps of `ensemble_scheduling`; each step becomes a request to the composing model's own scheduler
 * (so its dynamic batcher batches ensemble and direct requests together), a step starts as soon as the
 * tensors it reads exist (independent steps run concurrently), and the first failing step fails the
 * request with the step named. Composing models are looked up per request, so a reloaded composing
 * model is picked up without reloading the ensemble.
 */

export interface EnsembleSchedulerOptions {
  /** Normalized ensemble config (platform "ensemble", validated). */
  readonly config: ModelConfig;
  readonly catalog: Pick<ModelCatalog, 'get'>;
  readonly stats: ModelStats;
  readonly now?: Clock;
}

interface Step {
  readonly index: number;
  readonly model: string;
  /** undefined: the latest ready version. */
  readonly version?: string;
  /** [composing model input, ensemble tensor] */
  readonly inputs: readonly (readonly [string, string])[];
  /** [composing model output, ensemble tensor] */
  readonly outputs: readonly (readonly [string, string])[];
}

const shapeText = (s: readonly number[]): string => `[${s.join(',')}]`;
const renamed = (t: Tensor, name: string): Tensor => ({ name, datatype: t.datatype, shape: t.shape, data: t.data });

function toStep(s: ModelEnsemblingStep, index: number): Step {
  const v = s.model_version ?? -1;
  return {
    index,
    model: s.model_name ?? '',
    version: v === -1 ? undefined : String(v),
    inputs: Object.entries(s.input_map ?? {}),
    outputs: Object.entries(s.output_map ?? {}),
  };
}

export class EnsembleScheduler implements Scheduler {
  readonly #name: string;
  readonly #steps: readonly Step[];
  readonly #outputNames: readonly string[];
  readonly #catalog: Pick<ModelCatalog, 'get'>;
  readonly #stats: ModelStats;
  readonly #now: Clock;
  readonly #drain = new Drain();

  constructor(options: EnsembleSchedulerOptions) {
    this.#name = options.config.name ?? '';
    this.#steps = (options.config.ensemble_scheduling?.step ?? []).map(toStep);
    this.#outputNames = (options.config.output ?? []).map((o) => o.name ?? '');
    this.#catalog = options.catalog;
    this.#stats = options.stats;
    this.#now = options.now ?? hrClock;
  }

  enqueue(request: InferRequest): Promise<InferResult> {
    // Never queued here: its steps queue in the composing models (which see the client's signal).
    const notQueued = (): boolean => false;
    return this.#drain.accept(request, this.#stats, this.#now, (pending) => {
      void this.#run(request).then(
        ({ outputs, timing }) => {
          const done = this.#now();
          this.#stats.recordExecution(request.batchSize, timing.compute.inputNs, timing.compute.inferNs, timing.compute.outputNs);
          this.#stats.recordSuccess(Number(done - request.receivedNs), timing.queueNs, timing.compute);
          this.#stats.requestFinished();
          pending.resolve({ outputs, timing });
        },
        (e: unknown) => {
          const error = toOfsError(e);
          this.#stats.recordFailure(Number(this.#now() - request.receivedNs), error.code === 'OFS_REQUEST_CANCELLED' ? 'CANCELED' : 'BACKEND');
          this.#stats.requestFinished();
          pending.reject(error);
        },
      );
    }, notQueued);
  }

  inflight(): number {
    return this.#drain.inflight();
  }

  stop(): Promise<void> {
    return this.#drain.stop();
  }

  /** Runs the steps the requested outputs need, each once its inputs exist. */
  #run(request: InferRequest): Promise<{ outputs: Tensor[]; timing: RequestTiming }> {
    const wanted = request.outputs ?? this.#outputNames;
    const tensors = new Map<string, Tensor>(request.inputs.map((t) => [t.name, t]));
    const needed = this.#neededSteps(wanted);
    const started = new Set<number>();
    const totals = { queueNs: 0, inputNs: 0, inferNs: 0, outputNs: 0 };
    let running = 0;
    return new Promise((resolve, reject) => {
      let failed = false;
      let failure: unknown;
      // As Triton's ensemble: after a step fails nothing new starts, and the ensemble answers once the
      // steps still running have settled, so nothing reads the request's tensors after it has answered.
      const settleFailure = (): void => {
        if (running === 0) reject(failure);
      };
      const launch = (): void => {
        if (failed) return;
        for (const step of needed) {
          if (started.has(step.index) || !step.inputs.every(([, t]) => tensors.has(t))) continue;
          started.add(step.index);
          running += 1;
          this.#runStep(step, tensors, request).then(
            (result) => {
              running -= 1;
              if (failed) return settleFailure();
              for (const [out, t] of step.outputs) {
                const tensor = result.outputs.find((o) => o.name === out);
                if (tensor) tensors.set(t, renamed(tensor, t));
              }
              if (result.timing) {
                totals.queueNs += result.timing.queueNs;
                totals.inputNs += result.timing.compute.inputNs;
                totals.inferNs += result.timing.compute.inferNs;
                totals.outputNs += result.timing.compute.outputNs;
              }
              launch();
            },
            (e: unknown) => {
              running -= 1;
              if (!failed) {
                failed = true;
                failure = this.#stepError(step, e);
              }
              settleFailure();
            },
          );
        }
        if (running > 0 || failed) return;
        // Nothing runs and nothing can start: every needed tensor is there, or validation missed a gap.
        const missing = wanted.filter((n) => !tensors.has(n));
        if (missing.length > 0) {
          failed = true;
          reject(ofsError('OFS_BACKEND_FAILED', `ensemble '${this.#name}' produced no tensor ${missing.map((n) => `'${n}'`).join(', ')}`));
          return;
        }
        const compute: ComputeDurations = { inputNs: totals.inputNs, inferNs: totals.inferNs, outputNs: totals.outputNs };
        resolve({ outputs: wanted.map((n) => renamed(tensors.get(n) as Tensor, n)), timing: { queueNs: totals.queueNs, compute } });
      };
      launch();
    });
  }

  /** The steps that feed `wanted`, directly or through other steps. */
  #neededSteps(wanted: readonly string[]): Step[] {
    const producer = new Map<string, Step>();
    for (const s of this.#steps) for (const [, t] of s.outputs) producer.set(t, s);
    const needed = new Set<Step>();
    const visit = (tensor: string): void => {
      const s = producer.get(tensor);
      if (!s || needed.has(s)) return;
      needed.add(s);
      for (const [, t] of s.inputs) visit(t);
    };
    wanted.forEach(visit);
    return this.#steps.filter((s) => needed.has(s));
  }

  async #runStep(step: Step, tensors: ReadonlyMap<string, Tensor>, request: InferRequest): Promise<InferResult> {
    const model = this.#catalog.get(step.model, step.version);
    const inputs = step.inputs.map(([name, t]) => renamed(tensors.get(t) as Tensor, name));
    const batchSize = checkStepInputs(model, inputs);
    // A step carries the request's client signal, priority and timeout, as Triton's internal requests do.
    return model.scheduler.enqueue({
      inputs,
      outputs: step.outputs.map(([name]) => name),
      batchSize,
      receivedNs: this.#now(),
      signal: request.signal,
      priority: request.priority,
      timeoutUs: request.timeoutUs,
    });
  }

  #stepError(step: Step, e: unknown): OfsError {
    const err = toOfsError(e);
    return new OfsError(err.code, `in ensemble '${this.#name}', step ${step.index} (model '${step.model}'): ${err.message}`, { cause: err });
  }
}

/**
 * The checks the data plane makes on a client's inputs, for tensors a previous step produced: data
 * type, shape against the declared dims (batch dimension first when the model batches) and the batch
 * limit. Returns the request's batch size.
 */
function checkStepInputs(model: ServedModel, inputs: readonly Tensor[]): number {
  const maxBatch = model.config.max_batch_size ?? 0;
  let batch = 1;
  for (const t of inputs) {
    const declared = model.inputs.find((i) => i.name === t.name);
    if (!declared) throw ofsError('OFS_INFER_INPUT', `unexpected inference input '${t.name}' for model '${model.name}'`);
    if (declared.dtype !== t.datatype) {
      throw ofsError('OFS_INFER_INPUT', `inference input '${t.name}' data-type is '${t.datatype}', but model '${model.name}' expects '${declared.dtype}'`);
    }
    const expected = maxBatch > 0 ? [-1, ...declared.shape] : [...declared.shape];
    if (expected.length !== t.shape.length || !expected.every((d, i) => d === -1 || d === t.shape[i])) {
      throw ofsError('OFS_INFER_INPUT', `unexpected shape for input '${t.name}' for model '${model.name}'. Expected ${shapeText(expected)}, got ${shapeText(t.shape)}`);
    }
    if (maxBatch > 0) {
      batch = t.shape[0];
      if (batch > maxBatch) throw ofsError('OFS_INFER_INPUT', `inference request batch-size must be <= ${maxBatch} for '${model.name}'`);
    }
  }
  return batch;
}
