import { ofsError } from '../../../errors.js';
import type { WireDatatype } from '../../tensor/dtype.js';
import type { Attr, Graph, Initializer, Node } from '../ir.js';

/**
 * Static shapes for every value of an IR graph at a fixed batch size. MLIR needs a concrete type on
 * every op, so the OneFlow writer traces the graph the way OneFlow would (batch 1). Covers the ops
 * the writer lowers; anything else is an error naming the node.
 */
export interface ValueType {
  readonly dtype: WireDatatype;
  readonly shape: readonly number[];
}

function ints(n: Node, name: string, fallback: readonly number[]): number[] {
  const a: Attr | undefined = n.attrs[name];
  return a?.kind === 'ints' ? [...a.value] : [...fallback];
}
function int(n: Node, name: string, fallback: number): number {
  const a = n.attrs[name];
  return a?.kind === 'int' ? a.value : fallback;
}

function broadcast(node: Node, shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v !== 1 && d !== 1 && v !== d) throw bad(node, `cannot broadcast [${shapes.map((x) => x.join('x')).join('], [')}]`);
      if (v !== 1) d = v;
    }
    out.push(d);
  }
  return out;
}

function bad(node: Node, what: string): Error {
  return ofsError('OFS_GRAPH_INVALID', `node '${node.name}' (${node.op}): ${what}`);
}

/** Output spatial size of a window op (ONNX formula; ceil mode drops a window starting in padding). */
function windowOut(size: number, k: number, s: number, d: number, pb: number, pe: number, ceil: boolean): number {
  const span = size + pb + pe - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= size + pb) out--;
  return out;
}

function spatial(node: Node, x: readonly number[], kernel: readonly number[], out0: number[]): number[] {
  if (x.length !== 4) throw bad(node, `expects a 4-D input, got [${x.join(', ')}]`);
  const autoPad = node.attrs.auto_pad;
  if (autoPad?.kind === 'string' && autoPad.value !== 'NOTSET') throw bad(node, `auto_pad ${autoPad.value} is not supported`);
  const strides = ints(node, 'strides', [1, 1]);
  const dil = ints(node, 'dilations', [1, 1]);
  const pads = ints(node, 'pads', [0, 0, 0, 0]);
  const ceil = int(node, 'ceil_mode', 0) === 1;
  const dims = [0, 1].map((i) =>
    windowOut(x[2 + i] as number, kernel[i] as number, strides[i] as number, dil[i] as number, pads[i] as number, pads[i + 2] as number, ceil),
  );
  return [...out0, ...dims];
}

function reshapeTarget(node: Node, x: readonly number[], init: Initializer | undefined): number[] {
  if (!init || init.dtype !== 'INT64') throw bad(node, 'the shape input must be an INT64 initializer');
  const view = new DataView(init.data.buffer, init.data.byteOffset, init.data.byteLength);
  const target = Array.from({ length: init.data.byteLength / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
  const total = x.reduce((a, b) => a * b, 1);
  const out = target.map((d, i) => (d === 0 ? (x[i] as number) : d));
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  return out.map((d) => (d === -1 ? total / known : d));
}

export function inferShapes(graph: Graph, batch = 1): Map<string, ValueType> {
  const types = new Map<string, ValueType>();
  const inits = new Map(graph.initializers.map((i) => [i.name, i]));
  for (const i of graph.initializers) types.set(i.name, { dtype: i.dtype, shape: i.shape });
  for (const v of graph.inputs) {
    const shape = v.shape.map((d, i) => (d >= 0 ? d : i === 0 ? batch : NaN));
    if (shape.some(Number.isNaN)) {
      throw ofsError('OFS_GRAPH_INVALID', `input ${v.name} [${v.shape.join(', ')}] has a dynamic dimension other than the batch`);
    }
    types.set(v.name, { dtype: v.dtype, shape });
  }
  for (const node of graph.nodes) {
    const ins = node.inputs.map((n) => (n === '' ? undefined : types.get(n)));
    const x = ins[0];
    if (!x) throw bad(node, `input '${node.inputs[0] ?? ''}' has no known shape`);
    const s = x.shape;
    let shape: number[];
    switch (node.op) {
      case 'Relu':
      case 'Identity':
      case 'Softmax':
      case 'BatchNormalization':
        shape = [...s];
        break;
      case 'Conv': {
        const w = ins[1]?.shape;
        if (!w || w.length !== 4) throw bad(node, 'expects a 4-D weight');
        shape = spatial(node, s, ints(node, 'kernel_shape', w.slice(2)), [s[0] as number, w[0] as number]);
        break;
      }
      case 'MaxPool':
      case 'AveragePool':
        shape = spatial(node, s, ints(node, 'kernel_shape', []), [s[0] as number, s[1] as number]);
        break;
      case 'GlobalAveragePool':
        shape = [s[0] as number, s[1] as number, ...s.slice(2).map(() => 1)];
        break;
      case 'Add':
      case 'Mul':
      case 'Sum':
        shape = broadcast(node, ins.map((t) => t?.shape ?? []));
        break;
      case 'Flatten': {
        let axis = int(node, 'axis', 1);
        if (axis < 0) axis += s.length;
        const lead = s.slice(0, axis).reduce((a, b) => a * b, 1);
        shape = [lead, s.slice(axis).reduce((a, b) => a * b, 1)];
        break;
      }
      case 'Gemm': {
        const b = ins[1]?.shape;
        if (s.length !== 2 || b?.length !== 2) throw bad(node, 'Gemm needs 2-D operands');
        const m = int(node, 'transA', 0) ? s[1] : s[0];
        const n = int(node, 'transB', 0) ? b[0] : b[1];
        shape = [m as number, n as number];
        break;
      }
      case 'MatMul': {
        const b = ins[1]?.shape;
        if (!b || s.length < 2 || b.length < 2) throw bad(node, 'MatMul needs operands of rank ≥ 2');
        const lead = broadcast(node, [s.slice(0, -2), b.slice(0, -2)]);
        shape = [...lead, s[s.length - 2] as number, b[b.length - 1] as number];
        break;
      }
      case 'Reshape':
        shape = reshapeTarget(node, s, inits.get(node.inputs[1] ?? ''));
        break;
      case 'Transpose': {
        const perm = ints(node, 'perm', [...s.keys()].reverse());
        shape = perm.map((p) => s[p] as number);
        break;
      }
      default:
        throw bad(node, 'the OneFlow writer does not support this op');
    }
    types.set(node.outputs[0] as string, { dtype: x.dtype, shape });
  }
  return types;
}
