import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ofsError } from '../../../errors.js';
import { ONEFLOW_MLIR_FILENAME } from '../../config/constants.js';
import { dtypeFromWire } from '../../tensor/dtype.js';
import type { Attr, Graph, Initializer, Node } from '../ir.js';
import { formatTensorType, wireToElem } from './mlir-attrs.js';
import { type Printed, attrDict, fmt } from './mlir-format.js';
import { type ValueType, inferShapes } from './shape-infer.js';
import { writeVariable } from './variables.js';

/**
 * IR graph → a `model` folder as `flow.save(graph, dir)` writes it: model.mlir (generic op form,
 * current printing style, traced at batch 1) plus `<initializer>/meta` and `<initializer>/out` for
 * every initializer an op reads as a tensor.
 */
export interface WriteOneflowOptions {
  /** The `oneflow.job` symbol; defaults to the graph name. */
  readonly jobName?: string;
}

/** The scope id OneFlow gives a graph's root scope; readers ignore it but it must be present. */
const SCOPE_SYMBOL_ID = 4611686018427412479n;

/** Where each op's text goes and how values are named, shared by the lowerings below. */
class MlirBuilder {
  readonly lines: string[] = [];
  readonly #ssa = new Map<string, string>();
  readonly #taken = new Set<string>();
  #counter = 0;
  readonly #types: Map<string, ValueType>;

  constructor(types: Map<string, ValueType>) {
    this.#types = types;
  }

  /** MLIR's naming: `%base`, then `%base_0`, `%base_1`, … */
  named(base: string): string {
    if (!this.#taken.has(base)) {
      this.#taken.add(base);
      return `%${base}`;
    }
    for (let i = 0; ; i++) {
      const n = `${base}_${i}`;
      if (!this.#taken.has(n)) {
        this.#taken.add(n);
        return `%${n}`;
      }
    }
  }

  numbered(): string {
    return `%${this.#counter++}`;
  }

  bind(value: string, ssa: string): void {
    this.#ssa.set(value, ssa);
  }

  ssa(value: string, node?: Node): string {
    const s = this.#ssa.get(value);
    if (s === undefined) throw ofsError('OFS_GRAPH_INVALID', `value '${value}'${node ? ` read by node '${node.name}'` : ''} is not defined`);
    return s;
  }

  type(value: string): ValueType {
    const t = this.#types.get(value);
    if (!t) throw ofsError('OFS_GRAPH_INVALID', `value '${value}' has no known type`);
    return t;
  }

  typeText(value: string): string {
    const t = this.type(value);
    const elem = wireToElem(t.dtype);
    if (!elem) throw ofsError('OFS_GRAPH_INVALID', `value '${value}' is ${t.dtype}, which OneFlow cannot hold`);
    return formatTensorType(t.shape, elem);
  }

  op(results: readonly string[], name: string, operands: readonly string[], attrs: Record<string, Printed>, resultTypes: readonly string[], operandValues: readonly string[]): void {
    const lhs = results.length ? `${results.join(', ')} = ` : '';
    const inTypes = operandValues.map((v) => this.typeText(v)).join(', ');
    const outTypes = resultTypes.length === 1 ? resultTypes[0] : `(${resultTypes.join(', ')})`;
    this.lines.push(`    ${lhs}"${name}"(${operands.join(', ')}) ${attrDict(attrs)} : (${inTypes}) -> ${outTypes}`);
  }
}

function placement(): Record<string, Printed> {
  return { device_name: fmt.strs(['@0:0']), device_tag: fmt.str('cpu'), hierarchy: fmt.ints([1]), scope_symbol_id: fmt.i64(SCOPE_SYMBOL_ID) };
}

const attrInts = (n: Node, k: string, d: readonly number[]): number[] => {
  const a: Attr | undefined = n.attrs[k];
  return a?.kind === 'ints' ? [...a.value] : [...d];
};
const attrInt = (n: Node, k: string, d: number): number => {
  const a = n.attrs[k];
  return a?.kind === 'int' ? a.value : d;
};
const attrFloat = (n: Node, k: string, d: number): number => {
  const a = n.attrs[k];
  return a?.kind === 'float' ? a.value : d;
};

function unsupported(node: Node, what: string): never {
  throw ofsError('OFS_GRAPH_INVALID', `node '${node.name}' (${node.op}): ${what} cannot be written as OneFlow`);
}

/** ONNX pads [b0, b1, e0, e1] → OneFlow's symmetric [p0, p1]. */
function symmetricPads(node: Node): [number, number] {
  const [b0, b1, e0, e1] = attrInts(node, 'pads', [0, 0, 0, 0]) as [number, number, number, number];
  if (b0 !== e0 || b1 !== e1) unsupported(node, `asymmetric padding [${b0}, ${b1}, ${e0}, ${e1}]`);
  const autoPad = node.attrs.auto_pad;
  if (autoPad?.kind === 'string' && autoPad.value !== 'NOTSET') unsupported(node, `auto_pad ${autoPad.value}`);
  return [b0, b1];
}

interface Lowering {
  readonly b: MlirBuilder;
  readonly node: Node;
  readonly opName: string;
  /** The graph's opset: Softmax's default axis changed in opset 13. */
  readonly opset: number;
}

function lowerNode(l: Lowering): void {
  const { b, node, opName, opset } = l;
  const out = node.outputs[0] as string;
  const outType = b.typeText(out);
  const common = (lbn: string): Record<string, Printed> => ({ ...placement(), op_name: fmt.str(opName), output_lbns: fmt.strs([`${opName}/${lbn}`]) });
  const single = (name: string, operands: readonly string[], values: readonly string[], attrs: Record<string, Printed>, lbn = 'out_0'): void => {
    const r = b.numbered();
    b.op([r], name, operands, { ...common(lbn), ...attrs }, [outType], values);
    b.bind(out, r);
  };
  const ins = node.inputs.filter((i) => i !== '');
  const a = (i: number): string => b.ssa(node.inputs[i] as string, node);
  const rankOf = (v: string): number => b.type(v).shape.length;

  switch (node.op) {
    case 'Conv': {
      const w = b.type(node.inputs[1] as string).shape;
      if (w.length !== 4) unsupported(node, 'a non-2-D convolution');
      const hasBias = (node.inputs[2] ?? '') !== '';
      single('oneflow.conv2d', ins.map((v) => b.ssa(v, node)), ins, {
        data_format: fmt.str('channels_first'),
        dilation_rate: fmt.si32s(attrInts(node, 'dilations', [1, 1])),
        filters: fmt.si32(w[0] as number),
        groups: fmt.si32(attrInt(node, 'group', 1)),
        kernel_size: fmt.si32s(attrInts(node, 'kernel_shape', w.slice(2))),
        operand_segment_sizes: fmt.i32Array([1, 1, hasBias ? 1 : 0, 0]),
        padding_before: fmt.si32s(symmetricPads(node)),
        strides: fmt.si32s(attrInts(node, 'strides', [1, 1])),
      });
      return;
    }
    case 'BatchNormalization': {
      if (attrInt(node, 'training_mode', 0) !== 0) unsupported(node, 'training_mode = 1');
      if (rankOf(node.inputs[0] as string) < 2) unsupported(node, 'normalization of a rank-1 tensor');
      // OneFlow's operand order: x, moving_mean, moving_variance, gamma, beta.
      const order = [0, 3, 4, 1, 2];
      const r = b.numbered();
      b.op(
        [r],
        'oneflow.normalization',
        order.map(a),
        {
          ...common('y_0'),
          axis: fmt.si32(1),
          epsilon: fmt.f32(attrFloat(node, 'epsilon', 1e-5)),
          momentum: fmt.f32(attrFloat(node, 'momentum', 0.9)),
          operand_segment_sizes: fmt.i32Array([1, 1, 1, 1, 1, 0]),
          result_segment_sizes: fmt.i32Array([1, 0, 0]),
          training: fmt.bool(false),
        },
        [outType],
        order.map((i) => node.inputs[i] as string),
      );
      b.bind(out, r);
      return;
    }
    case 'Relu':
      return single('oneflow.relu', [a(0)], ins, {}, 'y_0');
    case 'Identity':
      return single('oneflow.identity', [a(0)], ins, {});
    case 'Softmax': {
      const rank = rankOf(ins[0] as string);
      // Before opset 13 the default axis is 1 (and means 'flatten from axis 1'), not the last axis.
      const axis = attrInt(node, 'axis', opset >= 13 ? -1 : 1);
      if (axis !== -1 && axis !== rank - 1) unsupported(node, `softmax over axis ${axis}`);
      return single('oneflow.softmax', [a(0)], ins, {});
    }
    case 'MaxPool': {
      if (attrInt(node, 'storage_order', 0) !== 0) unsupported(node, 'storage_order = 1');
      const y = b.named('y');
      const indice = b.named('indice');
      const idxType = formatTensorType(b.type(out).shape, 'i64');
      b.op(
        [y, indice],
        'oneflow.max_pool_2d',
        [a(0)],
        {
          ...placement(),
          op_name: fmt.str(opName),
          output_lbns: fmt.strs([`${opName}/y_0`, `${opName}/indice_0`]),
          ceil_mode: fmt.bool(attrInt(node, 'ceil_mode', 0) === 1),
          data_format: fmt.str('channels_first'),
          dilation: fmt.si32s(attrInts(node, 'dilations', [1, 1])),
          kernel_size: fmt.si32s(attrInts(node, 'kernel_shape', [])),
          padding: fmt.si32s(symmetricPads(node)),
          return_indices: fmt.bool(false),
          stride: fmt.si32s(attrInts(node, 'strides', [1, 1])),
        },
        [outType, idxType],
        ins,
      );
      b.bind(out, y);
      return;
    }
    case 'AveragePool':
      return single(
        'oneflow.avg_pool_2d',
        [a(0)],
        ins,
        {
          ceil_mode: fmt.bool(attrInt(node, 'ceil_mode', 0) === 1),
          count_include_pad: fmt.bool(attrInt(node, 'count_include_pad', 0) === 1),
          data_format: fmt.str('channels_first'),
          divisor_override: fmt.si32(0),
          kernel_size: fmt.si32s(attrInts(node, 'kernel_shape', [])),
          padding: fmt.si32s(symmetricPads(node)),
          stride: fmt.si32s(attrInts(node, 'strides', [1, 1])),
        },
        'y_0',
      );
    case 'GlobalAveragePool':
      if (rankOf(ins[0] as string) !== 4) unsupported(node, 'global pooling of a non-4-D tensor');
      return single('oneflow.adaptive_avg_pool2d', [a(0)], ins, { data_format: fmt.str('channels_first'), output_size: fmt.si64s([1, 1]) }, 'y_0');
    case 'Add':
    case 'Sum': {
      const shapes = ins.map((v) => b.type(v).shape.join('x'));
      const same = shapes.every((s) => s === shapes[0]);
      if (ins.length === 1) return single('oneflow.identity', [a(0)], ins, {});
      if (ins.length === 2 && same) return single('oneflow.add_n2', ins.map((v) => b.ssa(v, node)), ins, { op_type_name: fmt.str('add_n') });
      if (same) return single('oneflow.add_n', ins.map((v) => b.ssa(v, node)), ins, {});
      if (ins.length === 2) return single('oneflow.broadcast_add', ins.map((v) => b.ssa(v, node)), ins, {}, 'z_0');
      return unsupported(node, 'a broadcasting sum of more than two tensors');
    }
    case 'Mul':
      return single('oneflow.broadcast_mul', ins.map((v) => b.ssa(v, node)), ins, {}, 'z_0');
    case 'Flatten': {
      const rank = rankOf(ins[0] as string);
      let axis = attrInt(node, 'axis', 1);
      if (axis < 0) axis += rank;
      if (axis === 1) return single('oneflow.flatten', [a(0)], ins, { end_dim: fmt.si32(-1), start_dim: fmt.si32(1) });
      return single('oneflow.reshape', [a(0)], ins, { shape: fmt.si64s(b.type(out).shape) });
    }
    case 'Reshape':
      return single('oneflow.reshape', [a(0)], [ins[0] as string], { shape: fmt.si64s(b.type(out).shape) });
    case 'Transpose':
      return single('oneflow.transpose', [a(0)], ins, { perm: fmt.si32s(attrInts(node, 'perm', [...b.type(ins[0] as string).shape.keys()].reverse())) });
    case 'Gemm':
    case 'MatMul': {
      const gemm = node.op === 'Gemm';
      const two = rankOf(ins[0] as string) === 2 && rankOf(ins[1] as string) === 2;
      if (gemm && attrFloat(node, 'beta', 1) !== 1 && (node.inputs[2] ?? '') !== '') unsupported(node, 'beta ≠ 1');
      const mmAttrs = {
        alpha: fmt.f64(gemm ? attrFloat(node, 'alpha', 1) : 1),
        transpose_a: fmt.bool(gemm && attrInt(node, 'transA', 0) === 1),
        transpose_b: fmt.bool(gemm && attrInt(node, 'transB', 0) === 1),
      };
      const opName2 = two ? 'oneflow.matmul' : 'oneflow.broadcast_matmul';
      const bias = gemm ? node.inputs[2] ?? '' : '';
      if (bias === '') return single(opName2, [a(0), a(1)], [ins[0] as string, ins[1] as string], mmAttrs);
      // Gemm's C is OneFlow's separate broadcast_add, as nn.Linear traces.
      const mm = b.numbered();
      b.op([mm], opName2, [a(0), a(1)], { ...common('out_0'), ...mmAttrs }, [outType], [ins[0] as string, ins[1] as string]);
      const sum = b.numbered();
      const addName = `${opName}-broadcast_add`;
      b.lines.push(
        `    ${sum} = "oneflow.broadcast_add"(${mm}, ${b.ssa(bias, node)}) ${attrDict({ ...placement(), op_name: fmt.str(addName), output_lbns: fmt.strs([`${addName}/z_0`]) })} : (${outType}, ${b.typeText(bias)}) -> ${outType}`,
      );
      b.bind(out, sum);
      return;
    }
    default:
      unsupported(node, `op ${node.op}`);
  }
}

/** Initializers that nodes read as tensors (Reshape's shape is an attribute in OneFlow). */
function tensorInitializers(graph: Graph): Initializer[] {
  const byName = new Map(graph.initializers.map((i) => [i.name, i]));
  const used: Initializer[] = [];
  const seen = new Set<string>();
  for (const n of graph.nodes) {
    n.inputs.forEach((name, i) => {
      if (n.op === 'Reshape' && i === 1) return;
      const init = byName.get(name);
      if (init && !seen.has(name)) {
        seen.add(name);
        used.push(init);
      }
    });
  }
  for (const o of graph.outputs) {
    const init = byName.get(o.name);
    if (init && !seen.has(o.name)) throw ofsError('OFS_GRAPH_INVALID', `output ${o.name} is a constant; OneFlow outputs must be computed`);
  }
  return used;
}

function symbolName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_$.]/g, '_');
  return /^[A-Za-z_]/.test(s) ? s : `Graph_${s}`;
}

/** model.mlir text for `graph`, plus the initializers that need variable folders. */
export function formatOneflowMlir(graph: Graph, options: WriteOneflowOptions = {}): { mlir: string; variables: Initializer[] } {
  const types = inferShapes(graph, 1);
  const b = new MlirBuilder(types);
  const job = symbolName(options.jobName ?? (graph.name || 'Graph_0'));
  const oneflowType = (dtype: string): number => {
    const n = dtypeFromWire(dtype)?.oneflow;
    if (n === undefined) throw ofsError('OFS_GRAPH_INVALID', `OneFlow has no ${dtype} tensors`);
    return n;
  };

  const args = graph.inputs.map((v, i) => `%arg${i}: ${b.typeText(v.name)}`);
  /** `oneflow.input` / `oneflow.output`: the same attributes, named after the job and the position. */
  const ioOp = (kind: 'input' | 'output', value: string, operand: string, i: number): string => {
    const r = b.named('output');
    const name = `_${job}-${kind}_${i}`;
    const t = b.type(value);
    b.lines.push(
      `    ${r} = "oneflow.${kind}"(${operand}) ${attrDict({
        ...placement(),
        data_type: fmt.i32(oneflowType(t.dtype)),
        is_dynamic: fmt.bool(false),
        nd_sbp: fmt.strs(['B']),
        op_name: fmt.str(name),
        output_lbns: fmt.strs([`${name}/out`]),
        shape: fmt.si64s(t.shape),
      })} : (${b.typeText(value)}) -> ${b.typeText(value)}`,
    );
    return r;
  };
  graph.inputs.forEach((v, i) => b.bind(v.name, ioOp('input', v.name, `%arg${i}`, i)));

  const variables = tensorInitializers(graph);
  for (const init of variables) {
    const r = b.named('output');
    b.lines.push(
      `    ${r} = "oneflow.variable"() ${attrDict({
        ...placement(),
        data_type: fmt.i32(oneflowType(init.dtype)),
        nd_sbp: fmt.strs(['B']),
        op_name: fmt.str(init.name),
        output_lbns: fmt.strs([`${init.name}/out`]),
        shape: fmt.si64s(init.shape),
      })} : () -> ${b.typeText(init.name)}`,
    );
    b.bind(init.name, r);
  }

  const opNames = new Set<string>();
  graph.nodes.forEach((node, i) => {
    let opName = node.name || `${job}-${node.op}-${i}`;
    if (opNames.has(opName)) opName = `${opName}-${i}`;
    opNames.add(opName);
    if (node.outputs.length !== 1 && node.op !== 'MaxPool') {
      throw ofsError('OFS_GRAPH_INVALID', `node '${node.name}' (${node.op}) has ${node.outputs.length} outputs; the OneFlow writer supports one`);
    }
    lowerNode({ b, node, opName, opset: graph.opset });
  });

  const returns: string[] = [];
  graph.outputs.forEach((v, i) => returns.push(ioOp('output', v.name, b.ssa(v.name), i)));

  const outTypes = graph.outputs.map((v) => b.typeText(v.name));
  const sig = outTypes.length === 1 ? (outTypes[0] as string) : `(${outTypes.join(', ')})`;
  const ret = returns.length ? ` ${returns.join(', ')} : ${outTypes.join(', ')}` : '';
  const mlir = [
    'module {',
    `  oneflow.job @${job}(${args.join(', ')}) -> ${sig} {`,
    ...b.lines,
    `    oneflow.return${ret}`,
    '  }',
    '}',
    '',
  ].join('\n');
  return { mlir, variables };
}

/** Writes `graph` as a OneFlow `model` folder at `dir` (created if needed). */
export async function writeOneflowModel(dir: string, graph: Graph, options: WriteOneflowOptions = {}): Promise<void> {
  const { mlir, variables } = formatOneflowMlir(graph, options);
  await mkdir(dir, { recursive: true });
  for (const init of variables) await writeVariable(dir, init);
  await writeFile(join(dir, ONEFLOW_MLIR_FILENAME), mlir);
}
