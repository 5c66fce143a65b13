import type { ModelConfig, ModelInput, ModelOutput } from '../config/model-config.js';
import { BACKEND_ONEFLOW, ONEFLOW_INPUT_PATTERN, ONEFLOW_OUTPUT_PATTERN } from '../config/constants.js';
import type { Graph, ValueInfo } from '../graph/ir.js';
import { dtypeFromConfig, dtypeFromWire } from '../tensor/dtype.js';
import type { Problem } from '../problem.js';
import type { RuleContext } from './config-rules.js';

/**
 * Rules comparing config.pbtxt with the model's real IO (pure: the graph is passed in). Config dims
 * leave the batch dimension out when max_batch_size > 0, as in Triton.
 */

export interface GraphRuleContext extends RuleContext {
  /** The payload the graph was read from, as shown to the user (e.g. `m/1/model.onnx`). */
  readonly modelFile: string;
}

interface Pair {
  readonly side: 'input' | 'output';
  readonly index: number;
  readonly io: ModelInput | ModelOutput;
  readonly value: ValueInfo;
}

const fmt = (dims: readonly number[]): string => `[${dims.join(', ')}]`;
const configType = (v: ValueInfo): string => dtypeFromWire(v.dtype)?.config ?? v.dtype;

/** Binds config tensors to graph tensors: by position for the oneflow backend, by name otherwise. */
function pairUp(config: ModelConfig, graph: Graph, ctx: GraphRuleContext): { pairs: Pair[]; problems: Problem[] } {
  const pairs: Pair[] = [];
  const problems: Problem[] = [];
  const byPosition = config.backend === BACKEND_ONEFLOW;
  for (const side of ['input', 'output'] as const) {
    const declared = config[side] ?? [];
    const actual = side === 'input' ? graph.inputs : graph.outputs;
    const pattern = side === 'input' ? ONEFLOW_INPUT_PATTERN : ONEFLOW_OUTPUT_PATTERN;
    const bound = new Set<number>();
    declared.forEach((io, index) => {
      if (!io.name) return;
      let at: number;
      if (byPosition) {
        const m = pattern.exec(io.name);
        if (!m) return; // the naming rule reports it
        at = Number(m[1]);
        if (at >= actual.length) {
          problems.push({
            severity: 'error',
            file: ctx.file,
            field: `${side}[${index}].name`,
            message: `${io.name} names ${side} ${at} of the model, but ${ctx.modelFile} has ${actual.length} ${side}${actual.length === 1 ? '' : 's'}`,
            fix: `declare exactly the model's ${side}s, numbered from 0`,
          });
          return;
        }
      } else {
        at = actual.findIndex((v) => v.name === io.name);
        if (at < 0) {
          problems.push({
            severity: 'error',
            file: ctx.file,
            field: `${side}[${index}].name`,
            message: `${side} '${io.name}' is not an ${side} of ${ctx.modelFile} (its ${side}s: ${actual.map((v) => `'${v.name}'`).join(', ') || 'none'})`,
            fix: `use the model's ${side} names`,
          });
          return;
        }
      }
      bound.add(at);
      pairs.push({ side, index, io, value: actual[at] });
    });
    // Every model input needs a value; a config may serve only some of the outputs.
    if (side === 'input') {
      actual.forEach((v, at) => {
        if (bound.has(at)) return;
        problems.push({
          severity: 'error',
          file: ctx.file,
          field: 'input',
          message: `model input ${byPosition ? `${at} ('${v.name}', INPUT_${at})` : `'${v.name}'`} of ${ctx.modelFile} is missing from the config`,
          fix: `add an input ${byPosition ? `INPUT_${at}` : `'${v.name}'`} with data_type ${configType(v)}`,
        });
      });
    }
  }
  return { pairs, problems };
}

function checkPair(p: Pair, mbs: number, ctx: GraphRuleContext): Problem[] {
  const problems: Problem[] = [];
  const at = `${p.side}[${p.index}]`;
  const what = `${p.side} '${p.io.name}'`;
  const modelWhat = p.value.name === p.io.name ? `'${p.value.name}'` : `'${p.value.name}' (${p.io.name})`;

  const declaredType = p.io.data_type ? dtypeFromConfig(p.io.data_type)?.wire : undefined;
  if (declaredType && declaredType !== p.value.dtype) {
    problems.push({
      severity: 'error',
      file: ctx.file,
      field: `${at}.data_type`,
      message: `${what} has data_type ${p.io.data_type}, but ${modelWhat} in ${ctx.modelFile} is ${configType(p.value)}`,
      fix: `set data_type: ${configType(p.value)}`,
    });
  }

  const dims = p.io.dims ?? [];
  const shape = p.value.shape;
  // With batching, the model has one more dim than the config; when it has the same number the batch
  // rule reports the missing batch dim, so compare the full shape to avoid a second message.
  const expected = mbs > 0 && shape.length === dims.length + 1 ? shape.slice(1) : shape;
  const matches = expected.length === dims.length && expected.every((m, i) => m === -1 || m === dims[i]);
  if (!matches) {
    problems.push({
      severity: 'error',
      file: ctx.file,
      field: `${at}.dims`,
      message:
        `${what} has dims ${fmt(dims)}, but ${modelWhat} in ${ctx.modelFile} has shape ${fmt(shape)}` +
        (mbs > 0 ? ' (with max_batch_size > 0, dims leave out the leading batch dimension)' : ''),
      fix: `set dims: ${fmt(mbs > 0 && shape.length > 0 ? shape.slice(1) : shape)}`,
    });
  }
  return problems;
}

/** max_batch_size against the model's leading dimension; one problem per kind of mismatch. */
function checkBatching(pairs: readonly Pair[], mbs: number, ctx: GraphRuleContext): Problem[] {
  if (mbs <= 0) {
    const dynamic = pairs.length > 0 && pairs.every((p) => p.value.shape[0] === -1 && (p.io.dims ?? [])[0] === -1);
    if (!dynamic) return [];
    return [
      {
        severity: 'warning',
        file: ctx.file,
        field: 'max_batch_size',
        message: `${ctx.modelFile} has a dynamic leading (batch) dimension but max_batch_size is 0, so requests are never batched and responses keep the batch dimension as a plain dim`,
        fix: 'set max_batch_size (e.g. 8) and drop the leading -1 from every dims',
      },
    ];
  }
  const noBatch = pairs.find((p) => p.value.shape.length === (p.io.dims ?? []).length);
  if (noBatch) {
    return [
      {
        severity: 'error',
        file: ctx.file,
        field: 'max_batch_size',
        message: `max_batch_size is ${mbs}, but the model has no batch dimension: '${noBatch.value.name}' in ${ctx.modelFile} has shape ${fmt(noBatch.value.shape)} and the config dims ${fmt(noBatch.io.dims ?? [])} already cover it`,
        fix: 'set max_batch_size: 0, or export the model with a leading batch dimension',
      },
    ];
  }
  const fixed = pairs.find((p) => p.value.shape.length > 0 && p.value.shape[0] !== -1 && (p.value.shape[0] !== 1 || mbs > 1));
  if (!fixed) return [];
  const n = fixed.value.shape[0];
  return [
    {
      severity: 'error',
      file: ctx.file,
      field: 'max_batch_size',
      message: `max_batch_size is ${mbs}, but the batch dimension of '${fixed.value.name}' in ${ctx.modelFile} is fixed at ${n} (shape ${fmt(fixed.value.shape)})`,
      fix:
        n === 1
          ? 'set max_batch_size: 1, or re-export the model with a dynamic batch dimension to batch requests'
          : `set max_batch_size: 0 and dims to the full shape ${fmt(fixed.value.shape)}, or re-export the model with a dynamic batch dimension`,
    },
  ];
}

/** Config IO (names, data types, dims) and max_batch_size against the model's real IO. */
export function checkAgainstGraph(config: ModelConfig, graph: Graph, ctx: GraphRuleContext): Problem[] {
  const mbs = config.max_batch_size ?? 0;
  const { pairs, problems } = pairUp(config, graph, ctx);
  for (const p of pairs) problems.push(...checkPair(p, mbs, ctx));
  problems.push(...checkBatching(pairs, mbs, ctx));
  return problems;
}

/**
 * The graph's own wiring, which any backend checks before it runs a node: every graph output must be a
 * graph input, a weight or the output of a node. onnxruntime refuses such a graph when the session is
 * made, so without this rule `validate` would pass a model that `serve` cannot load.
 */
export function checkGraphWiring(graph: Graph, modelFile: string): Problem[] {
  const produced = new Set<string>([...graph.inputs.map((v) => v.name), ...graph.initializers.map((i) => i.name), ...graph.nodes.flatMap((n) => n.outputs)]);
  return graph.outputs
    .filter((o) => !produced.has(o.name))
    .map((o) => ({
      severity: 'error' as const,
      file: modelFile,
      message: `${modelFile} declares output '${o.name}', but no node of the graph produces it`,
      fix: 're-export the model so the output comes from a node (the exporter lost or renamed it)',
    }));
}
