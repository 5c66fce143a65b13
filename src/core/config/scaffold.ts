import { ofsError } from '../../errors.js';
import type { Graph, ValueInfo } from '../graph/ir.js';
import { dtypeFromWire, type ConfigDataType } from '../tensor/dtype.js';
import { BACKEND_ONEFLOW } from './constants.js';
import type { ModelConfig, ModelInput, ModelOutput } from './model-config.js';

export interface ScaffoldOptions {
  readonly name: string;
  readonly backend: 'oneflow' | 'onnxruntime';
  /**
   * Used when the model has a dynamic batch dimension (default 8). For a model whose batch dimension
   * is fixed at 1 only 0 or 1 make sense; 0 keeps the batch dimension in dims.
   */
  readonly maxBatchSize?: number;
  /** label_filename to set on the class output. */
  readonly labelsFile?: string;
  /** Number of labels in that file: picks the output whose last dim equals it (else the first output). */
  readonly labelCount?: number;
  /** KIND_GPU instead of KIND_CPU. */
  readonly gpu?: boolean;
}

export const DEFAULT_SCAFFOLD_MAX_BATCH_SIZE = 8;

/**
 * How the model's leading dimension maps to max_batch_size, the way Triton users expect image
 * classifiers to look (requests shaped [batch, ...], classification results [batch, k]):
 * - dim 0 is -1 on every input and output → a batch dimension: max_batch_size 8 (or as asked);
 * - dim 0 is 1 (or -1) everywhere → a model exported with batch 1, as OneFlow-Serving's ResNet-50 example
 *   (`max_batch_size: 1`): max_batch_size 1, so clients still send [1, ...];
 * - anything else (a fixed batch > 1, rank-0 tensors, disagreeing leading dims) → no batch dimension:
 *   max_batch_size 0 and dims are the full shapes.
 */
function batchingOf(graph: Graph, asked: number | undefined): number {
  const all = [...graph.inputs, ...graph.outputs];
  const leads = all.map((v) => (v.shape.length > 0 ? v.shape[0] : undefined));
  if (all.length === 0 || leads.some((d) => d === undefined)) return checkAsked(asked, 0);
  if (leads.every((d) => d === -1)) {
    const mbs = asked ?? DEFAULT_SCAFFOLD_MAX_BATCH_SIZE;
    if (mbs < 0) throw ofsError('OFS_BAD_ARGUMENT', `max batch size must be 0 or more, not ${mbs}`);
    return mbs;
  }
  if (leads.every((d) => d === -1 || d === 1)) {
    if (asked !== undefined && asked !== 0 && asked !== 1) {
      throw ofsError(
        'OFS_BAD_ARGUMENT',
        `max batch size ${asked} is impossible: the model's batch dimension is fixed at 1 (use 1, or 0 to keep it in dims)`,
      );
    }
    return asked ?? 1;
  }
  return checkAsked(asked, 0);
}

function checkAsked(asked: number | undefined, only: number): number {
  if (asked !== undefined && asked !== only) {
    throw ofsError('OFS_BAD_ARGUMENT', `max batch size ${asked} is impossible: the model has no dynamic or unit batch dimension`);
  }
  return only;
}

function configType(v: ValueInfo): ConfigDataType {
  const info = dtypeFromWire(v.dtype);
  if (!info) throw ofsError('OFS_GRAPH_INVALID', `tensor '${v.name}' has unknown type ${v.dtype}`);
  return info.config;
}

/**
 * A config.pbtxt for `graph`, taken from the model itself: names (INPUT_<i>/OUTPUT_<i> for the oneflow
 * backend, which binds by position; the model's own names for onnxruntime), data types, dims without the
 * batch dimension, max_batch_size (see batchingOf), label_filename on the class output, one instance.
 */
export function scaffoldConfig(graph: Graph, opts: ScaffoldOptions): ModelConfig {
  const mbs = batchingOf(graph, opts.maxBatchSize);
  const oneflow = opts.backend === BACKEND_ONEFLOW;
  const dims = (v: ValueInfo): number[] => [...(mbs > 0 ? v.shape.slice(1) : v.shape)];

  const input: ModelInput[] = graph.inputs.map((v, i) => ({
    name: oneflow ? `INPUT_${i}` : v.name,
    data_type: configType(v),
    dims: dims(v),
  }));
  const output: ModelOutput[] = graph.outputs.map((v, i) => ({
    name: oneflow ? `OUTPUT_${i}` : v.name,
    data_type: configType(v),
    dims: dims(v),
  }));

  if (opts.labelsFile !== undefined && output.length > 0) {
    const byCount =
      opts.labelCount === undefined ? -1 : output.findIndex((o) => (o.dims ?? []).at(-1) === opts.labelCount);
    const at = byCount >= 0 ? byCount : 0;
    output[at] = { ...output[at], label_filename: opts.labelsFile };
  }

  return {
    name: opts.name,
    backend: opts.backend,
    max_batch_size: mbs,
    input,
    output,
    instance_group: [{ count: 1, kind: opts.gpu ? 'KIND_GPU' : 'KIND_CPU' }],
  };
}
