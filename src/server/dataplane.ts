import { isOfsError, ofsError } from '../errors.js';
import { dtypeFromWire, elementCount, type WireDatatype } from '../core/tensor/dtype.js';
import type { Tensor } from '../core/tensor/tensor.js';
import type { ModelConfig } from '../core/config/model-config.js';
import type { ModelCatalog, ServedModel } from '../core/served-model.js';
import type { StatsSnapshot } from '../core/stats/model-stats.js';
import type { ValueInfo } from '../core/graph/ir.js';
import { classify } from '../protocol/classification.js';
import { countBytesElements, serializeBytesElements } from '../core/tensor/bytes.js';
import type {
  V2ModelMetadata,
  V2ModelStatistics,
  V2Parameters,
  V2RepositoryIndexEntry,
  V2ServerMetadata,
  V2StatisticsResponse,
  V2TensorMetadata,
} from '../protocol/v2-types.js';

/**
 * The protocol-free server logic (after MLServer's DataPlane): HTTP and gRPC adapters decode their wire
 * format into these calls and encode the results. Model lookup, request validation against the model,
 * classification and statistics live here once.
 */

/** Extensions we implement (triton-protocol.md §1); perf_analyzer reads server stats only if `statistics` is listed. */
export const SERVER_EXTENSIONS: readonly string[] = [
  'classification',
  'model_repository',
  'model_configuration',
  'binary_tensor_data',
  'parameters',
  'statistics',
  'schedule_policy',
];

export const SERVER_NAME = 'triton';
/** Triton-style version string reported by GET /v2 (clients only display it). */
export const DEFAULT_SERVER_VERSION = '2.0.0';

/** `triton_` parameter keys Triton lets through (set by triton_cli's streaming client). */
const ALLOWED_TRITON_PARAMETERS: ReadonlySet<string> = new Set(['triton_enable_empty_final_response']);

export interface InferInputData {
  readonly name: string;
  /** As sent; checked against the model. */
  readonly datatype: string;
  readonly shape: readonly number[];
  /** Little-endian row-major bytes (BYTES: length-prefixed elements). */
  readonly data: Uint8Array;
}

export interface RequestedOutput {
  readonly name: string;
  /** Top-k classification instead of the raw tensor (0 or undefined: raw). */
  readonly classification?: number;
}

export interface DataPlaneInferRequest {
  readonly model: string;
  readonly version?: string;
  readonly id?: string;
  readonly parameters?: V2Parameters;
  readonly inputs: readonly InferInputData[];
  /** A raw binary request: the data of the model's single input, batch 1; `inputs` is then ignored. */
  readonly rawInput?: Uint8Array;
  /** undefined = every model output, in config order. */
  readonly outputs?: readonly RequestedOutput[];
  /** When the request arrived (process.hrtime.bigint()); defaults to when infer() is called. */
  readonly receivedNs?: bigint;
  /** Aborts when the client goes away; a still-queued request is then dropped (see InferRequest.signal). */
  readonly signal?: AbortSignal;
}

export interface DataPlaneInferResponse {
  readonly model_name: string;
  readonly model_version: string;
  readonly id?: string;
  /** In the requested order, or the model's output order when none were requested. */
  readonly outputs: Tensor[];
}

export interface DataPlaneOptions {
  readonly catalog: ModelCatalog;
  readonly serverVersion?: string;
  readonly now?: () => bigint;
  /** Ready only when every model is ready (tritonserver's --strict-readiness, default true). */
  readonly strictReadiness?: boolean;
}

const shapeText = (s: readonly number[]): string => `[${s.join(',')}]`;

function maxBatchOf(model: ServedModel): number {
  return model.config.max_batch_size ?? 0;
}

function inputError(what: string): Error {
  return ofsError('OFS_INFER_INPUT', what);
}

function checkByteSize(model: ServedModel, input: InferInputData, datatype: WireDatatype): void {
  const count = elementCount(input.shape);
  if (datatype === 'BYTES') {
    const got = countBytesElements(input.data);
    if (got !== count) {
      throw inputError(
        `expected ${count} string elements for inference input '${input.name}' for model '${model.name}', got ${got ?? 'malformed BYTES data'}`,
      );
    }
    return;
  }
  const expected = count * (dtypeFromWire(datatype)?.itemSize ?? 0);
  if (input.data.length !== expected) {
    throw inputError(
      `input byte size mismatch for input '${input.name}' for model '${model.name}'. Expected ${expected}, got ${input.data.length}`,
    );
  }
}

/**
 * HTTP's parser refuses negative dims but gRPC's int64 shape carries any sign, and a wildcard model
 * dim matches whatever is sent: [-2, -2] would claim 4 elements and pass the byte-size check. The
 * product of the non-zero dims must also stay exact, or [0, 2^60] (zero bytes) would reach a backend.
 */
function checkDims(model: ServedModel, input: InferInputData): void {
  let product = 1;
  for (const d of input.shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw inputError(
        `unexpected shape for input '${input.name}' for model '${model.name}': dims must be non-negative integers, got ${shapeText(input.shape)}`,
      );
    }
    if (d > 0) product *= d;
  }
  if (!Number.isSafeInteger(product)) {
    throw inputError(
      `unexpected shape for input '${input.name}' for model '${model.name}': ${shapeText(input.shape)} has more elements than a tensor can hold`,
    );
  }
}

function checkShape(model: ServedModel, input: InferInputData, declared: ValueInfo): void {
  checkDims(model, input);
  const batching = maxBatchOf(model) > 0;
  const expected = batching ? [-1, ...declared.shape] : [...declared.shape];
  const ok =
    expected.length === input.shape.length && expected.every((d, i) => d === -1 || d === input.shape[i]);
  if (!ok) {
    const note = batching
      ? ' NOTE: Setting a non-zero max_batch_size in the model config requires a batch dimension to be prepended to each input shape.' +
        ' If you want to specify the full shape including the batch dim in your input dims config, try setting max_batch_size to zero.' +
        ' See the model configuration docs for more info on max_batch_size.'
      : '';
    throw inputError(
      `unexpected shape for input '${input.name}' for model '${model.name}'. Expected ${shapeText(expected)}, got ${shapeText(input.shape)}.${note}`,
    );
  }
}

/** Checks request inputs against the model; returns them as tensors plus the request batch size. */
export function validateInputs(model: ServedModel, inputs: readonly InferInputData[]): { tensors: Tensor[]; batchSize: number } {
  const maxBatch = maxBatchOf(model);
  const seen = new Set<string>();
  let batchSize: number | undefined;
  const tensors: Tensor[] = [];
  for (const input of inputs) {
    if (seen.has(input.name)) throw inputError(`input '${input.name}' was specified more than once for model '${model.name}'`);
    seen.add(input.name);
    const declared = model.inputs.find((i) => i.name === input.name);
    if (!declared) throw inputError(`unexpected inference input '${input.name}' for model '${model.name}'`);
    if (input.datatype !== declared.dtype) {
      throw inputError(
        `inference input '${input.name}' data-type is '${input.datatype}', but model '${model.name}' expects '${declared.dtype}'`,
      );
    }
    checkShape(model, input, declared);
    if (maxBatch > 0) {
      const b = input.shape[0];
      if (batchSize !== undefined && b !== batchSize) {
        throw inputError(`input '${input.name}' batch size does not match other inputs for '${model.name}'`);
      }
      batchSize = b;
      if (b > maxBatch) throw inputError(`inference request batch-size must be <= ${maxBatch} for '${model.name}'`);
    }
    checkByteSize(model, input, declared.dtype);
    tensors.push({ name: input.name, datatype: declared.dtype, shape: [...input.shape], data: input.data });
  }
  const optional = new Set((model.config.input ?? []).filter((i) => i.optional).map((i) => i.name));
  const missing = model.inputs.filter((i) => !seen.has(i.name) && !optional.has(i.name)).map((i) => i.name);
  if (missing.length > 0) {
    const required = model.inputs.filter((i) => !optional.has(i.name)).length;
    throw inputError(
      `expected ${required} inputs but got ${inputs.length} inputs for model '${model.name}'. ` +
        `Got input(s) [${[...seen].map((n) => `'${n}'`).join(', ')}], but missing required input(s) ` +
        `[${missing.map((n) => `'${n}'`).join(', ')}]. Please provide all required input(s).`,
    );
  }
  return { tensors, batchSize: maxBatch > 0 ? batchSize ?? 1 : 1 };
}

/**
 * Triton's raw-input deduction: the single input's config shape, batch 1, one -1 dim sized by the
 * bytes; for a BYTES input, the whole body is its one element.
 */
export function rawInputOf(model: ServedModel, data: Uint8Array): InferInputData {
  if (model.inputs.length !== 1) {
    throw inputError(
      `a raw binary request (Inference-Header-Content-Length: 0) needs a model with exactly one input; model '${model.name}' has ${model.inputs.length}`,
    );
  }
  const input = model.inputs[0];
  const shape = maxBatchOf(model) > 0 ? [1, ...input.shape] : [...input.shape];
  if (input.dtype === 'BYTES') {
    // The body is one element (an encoded image, say) without the length prefix; a request that can
    // only carry one element fits a model taking one element per batch item.
    if (elementCount(shape.map((d) => (d === -1 ? 1 : d))) !== 1) {
      throw inputError(`the shape of the raw input for model '${model.name}' can not be deduced: input '${input.name}' takes more than one BYTES element`);
    }
    return { name: input.name, datatype: 'BYTES', shape: shape.map((d) => (d === -1 ? 1 : d)), data: serializeBytesElements([data]) };
  }
  const wildcard = shape.indexOf(-1);
  if (wildcard >= 0) {
    const itemSize = dtypeFromWire(input.dtype)?.itemSize ?? 0;
    if (shape.indexOf(-1, wildcard + 1) >= 0 || itemSize === 0) {
      throw inputError(`the shape of the raw input for model '${model.name}' can not be deduced`);
    }
    const known = elementCount(shape.filter((d) => d !== -1));
    const n = data.length / (known * itemSize);
    if (!Number.isInteger(n)) {
      throw inputError(`the raw input size ${data.length} does not fit the shape of input '${input.name}' for model '${model.name}'`);
    }
    shape[wildcard] = n;
  }
  return { name: input.name, datatype: input.dtype, shape, data };
}

function checkParameters(parameters: V2Parameters | undefined): void {
  for (const key of Object.keys(parameters ?? {})) {
    if (key.startsWith('triton_') && !ALLOWED_TRITON_PARAMETERS.has(key)) {
      throw inputError(
        "parameter keys starting with 'triton_' are reserved for Triton usage. Only the following keys starting with 'triton_' are allowed: " +
          [...ALLOWED_TRITON_PARAMETERS].join(' '),
      );
    }
  }
}

/**
 * The schedule policy extension's `priority` and `timeout` (µs) request parameters: unsigned integers,
 * as Triton parses them; undefined when absent.
 */
export function schedulePolicyOf(parameters: V2Parameters | undefined): { priority?: number; timeoutUs?: number } {
  const read = (key: string): number | undefined => {
    if (!parameters || !Object.hasOwn(parameters, key)) return undefined;
    const v = parameters[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw ofsError('OFS_INFER_PARAMETER', key, JSON.stringify(v));
    return v;
  };
  const priority = read('priority');
  const timeoutUs = read('timeout');
  return { ...(priority !== undefined ? { priority } : {}), ...(timeoutUs !== undefined ? { timeoutUs } : {}) };
}

const CLASSIFIABLE: ReadonlySet<WireDatatype> = new Set([
  'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP32', 'FP64',
]);

function checkOutputs(model: ServedModel, outputs: readonly RequestedOutput[] | undefined): void {
  const seen = new Set<string>();
  for (const o of outputs ?? []) {
    const declared = model.outputs.find((x) => x.name === o.name);
    if (!declared) throw ofsError('OFS_INFER_OUTPUT', `unexpected inference output '${o.name}' for model '${model.name}'`);
    if (seen.has(o.name)) throw ofsError('OFS_INFER_OUTPUT', `output '${o.name}' was requested more than once`);
    seen.add(o.name);
    const k = o.classification ?? 0;
    if (!Number.isInteger(k) || k < 0) throw ofsError('OFS_INFER_OUTPUT', "Unable to set 'classification'");
    if (k > 0 && !CLASSIFIABLE.has(declared.dtype)) throw ofsError('OFS_CLASSIFICATION_TYPE', declared.dtype);
  }
}

function toV2Stats(model: ServedModel, s: StatsSnapshot): V2ModelStatistics {
  return {
    name: model.name,
    version: model.version,
    last_inference: s.last_inference,
    inference_count: s.inference_count,
    execution_count: s.execution_count,
    inference_stats: {
      success: s.success,
      fail: s.fail,
      queue: s.queue,
      compute_input: s.compute_input,
      compute_infer: s.compute_infer,
      compute_output: s.compute_output,
      cache_hit: s.cache_hit,
      cache_miss: s.cache_miss,
    },
    response_stats: {},
    batch_stats: s.batch_stats,
    memory_usage: [],
  };
}

function tensorMetadata(v: ValueInfo, batching: boolean): V2TensorMetadata {
  return { name: v.name, datatype: v.dtype, shape: batching ? [-1, ...v.shape] : [...v.shape] };
}

/** How many model names an unknown-model error lists before "and N more". */
const LISTED_MODELS = 20;

/**
 * The catalog as the data plane reads it: an unknown model's error keeps Triton's message, which
 * clients match on, and goes on to list the models the repository has, so the user sees the typo.
 */
function listingUnknownModels(catalog: ModelCatalog): ModelCatalog {
  const enrich = (e: unknown, name: string): unknown => {
    if (!isOfsError(e) || e.code !== 'OFS_MODEL_UNKNOWN') return e;
    const names = [...new Set(catalog.index().map((m) => m.name))].sort();
    const shown = names.slice(0, LISTED_MODELS).join(', ');
    const more = names.length > LISTED_MODELS ? ` and ${names.length - LISTED_MODELS} more` : '';
    return ofsError('OFS_MODEL_UNKNOWN', name, names.length === 0 ? 'the repository has no models' : `available models: ${shown}${more}`);
  };
  return {
    get: (name, version) => {
      try {
        return catalog.get(name, version);
      } catch (e) {
        throw enrich(e, name);
      }
    },
    readyVersions: (name) => {
      try {
        return catalog.readyVersions(name);
      } catch (e) {
        throw enrich(e, name);
      }
    },
    index: () => catalog.index(),
    ...(catalog.storeIndex ? { storeIndex: catalog.storeIndex.bind(catalog) } : {}),
    allReady: () => catalog.allReady(),
    load: (name) => catalog.load(name),
    unload: (name) => catalog.unload(name),
  };
}

export class DataPlane {
  readonly #catalog: ModelCatalog;
  readonly #version: string;
  readonly #now: () => bigint;
  readonly #strictReadiness: boolean;
  /** Aborted when the server gives up waiting for in-flight requests (the exit timeout has passed). */
  readonly #abandon = new AbortController();

  constructor(options: DataPlaneOptions) {
    this.#strictReadiness = options.strictReadiness ?? true;
    this.#catalog = listingUnknownModels(options.catalog);
    this.#version = options.serverVersion ?? DEFAULT_SERVER_VERSION;
    this.#now = options.now ?? (() => process.hrtime.bigint());
  }

  live(): boolean {
    return true;
  }

  ready(): boolean {
    return !this.#strictReadiness || this.#catalog.allReady();
  }

  serverMetadata(): V2ServerMetadata {
    return { name: SERVER_NAME, version: this.#version, extensions: [...SERVER_EXTENSIONS] };
  }

  /** The served model; throws OFS_MODEL_UNKNOWN / OFS_MODEL_NO_VERSIONS / OFS_MODEL_VERSION_UNKNOWN. */
  model(name: string, version?: string): ServedModel {
    return this.#catalog.get(name, version || undefined);
  }

  modelMetadata(name: string, version?: string): V2ModelMetadata {
    const m = this.model(name, version);
    const batching = maxBatchOf(m) > 0;
    return {
      name: m.name,
      versions: version ? [version] : this.#catalog.readyVersions(name),
      platform: m.platform || m.config.platform || m.config.backend || '',
      inputs: m.inputs.map((v) => tensorMetadata(v, batching)),
      outputs: m.outputs.map((v) => tensorMetadata(v, batching)),
    };
  }

  /** false when the model exists but the version is not ready; throws OFS_MODEL_UNKNOWN for an unknown model. */
  modelReady(name: string, version?: string): boolean {
    try {
      this.model(name, version);
      return true;
    } catch (e) {
      this.#catalog.readyVersions(name); // rethrows OFS_MODEL_UNKNOWN when the model is not in the store
      if (isOfsError(e) && (e.code === 'OFS_MODEL_NO_VERSIONS' || e.code === 'OFS_MODEL_VERSION_UNKNOWN')) {
        return false;
      }
      throw e;
    }
  }

  modelConfig(name: string, version?: string): ModelConfig {
    return this.model(name, version).config;
  }

  statistics(name?: string, version?: string): V2StatisticsResponse {
    let models: ServedModel[];
    if (name === undefined || name === '') {
      models = this.#catalog
        .index()
        .filter((e) => e.state === 'READY')
        .flatMap((e) => (e.version ? [e.version] : this.#catalog.readyVersions(e.name)).map((v) => this.model(e.name, v)));
    } else if (version) {
      models = [this.model(name, version)];
    } else {
      const versions = this.#catalog.readyVersions(name);
      models = versions.length > 0 ? versions.map((v) => this.model(name, v)) : [this.model(name)];
    }
    return { model_stats: models.map((m) => toV2Stats(m, m.stats.snapshot())) };
  }

  repositoryIndex(readyOnly = false): V2RepositoryIndexEntry[] {
    const catalog = this.#catalog;
    return (catalog.storeIndex ? catalog.storeIndex() : catalog.index())
      .filter((e) => !readyOnly || e.state === 'READY')
      .map((e) => ({
        name: e.name,
        ...(e.version !== undefined ? { version: e.version } : {}),
        state: e.state,
        ...(e.reason ? { reason: e.reason } : {}),
      }));
  }

  /** `parameterNames`: the keys of the load request's parameters; config and file overrides are refused. */
  async load(name: string, parameterNames: readonly string[] = []): Promise<void> {
    const overrides = parameterNames.filter((k) => k === 'config' || k.startsWith('file:'));
    if (overrides.length > 0) {
      throw ofsError('OFS_PROTOCOL_UNSUPPORTED', `load parameters ${overrides.join(', ')} are not supported by this server`);
    }
    return this.#catalog.load(name);
  }

  unload(name: string): Promise<void> {
    return this.#catalog.unload(name);
  }

  /**
   * Answers every request still in flight with OFS_SERVER_SHUTTING_DOWN at once, whether queued
   * (dropped from its queue) or executing (its result will be discarded): what a shutdown does once its
   * exit timeout has passed, so no client is left without an answer when the process ends.
   */
  abandonInflight(): void {
    this.#abandon.abort();
  }

  #unlessAbandoned<T>(work: Promise<T>): Promise<T> {
    const abandon = this.#abandon.signal;
    if (abandon.aborted) return Promise.reject(ofsError('OFS_SERVER_SHUTTING_DOWN'));
    return new Promise<T>((resolve, reject) => {
      const onAbandon = (): void => reject(ofsError('OFS_SERVER_SHUTTING_DOWN'));
      abandon.addEventListener('abort', onAbandon, { once: true });
      work.then(
        (v) => {
          abandon.removeEventListener('abort', onAbandon);
          resolve(v);
        },
        (e: unknown) => {
          abandon.removeEventListener('abort', onAbandon);
          reject(abandon.aborted ? ofsError('OFS_SERVER_SHUTTING_DOWN') : e);
        },
      );
    });
  }

  async infer(request: DataPlaneInferRequest): Promise<DataPlaneInferResponse> {
    const receivedNs = request.receivedNs ?? this.#now();
    const model = this.model(request.model, request.version);
    let prepared: { tensors: Tensor[]; batchSize: number };
    let policy: ReturnType<typeof schedulePolicyOf>;
    try {
      checkParameters(request.parameters);
      policy = schedulePolicyOf(request.parameters);
      const inputs = request.rawInput ? [rawInputOf(model, request.rawInput)] : request.inputs;
      prepared = validateInputs(model, inputs);
      checkOutputs(model, request.outputs);
    } catch (e) {
      model.stats.recordFailure(Number(this.#now() - receivedNs), 'OTHER');
      throw e;
    }
    const names = request.outputs?.map((o) => o.name);
    const signal = request.signal ? AbortSignal.any([request.signal, this.#abandon.signal]) : this.#abandon.signal;
    const result = await this.#unlessAbandoned(
      model.scheduler.enqueue({ inputs: prepared.tensors, outputs: names, batchSize: prepared.batchSize, receivedNs, signal, ...policy }),
    );
    const wanted: readonly RequestedOutput[] = request.outputs ?? model.outputs.map((o) => ({ name: o.name }));
    const batched = maxBatchOf(model) > 0;
    const outputs = wanted.map((o) => {
      const tensor = result.outputs.find((t) => t.name === o.name);
      if (!tensor) throw ofsError('OFS_BACKEND_FAILED', `the model did not produce output '${o.name}'`);
      const k = o.classification ?? 0;
      return k > 0 ? classify(tensor, { k, batched, labels: model.labels.get(o.name) }) : tensor;
    });
    return {
      model_name: model.name,
      model_version: model.version,
      ...(request.id ? { id: request.id } : {}),
      outputs,
    };
  }
}
