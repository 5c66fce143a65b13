import { ofsError, type OfsError } from '../../errors.js';
import type { Attr, Graph, Initializer, Node } from '../../core/graph/ir.js';
import { foldBatchNorm } from '../../core/graph/passes/fold-batchnorm.js';
import { float32Values, integerValues } from '../../core/graph/passes/initializer-values.js';
import { fusePlanSteps, type DraftStep } from './fuse-plan.js';
import { PLAN_VERSION, type NativePlan, type WeightRef } from './plan-format.js';

/**
 * Lowers the graph IR to the native addon's plan (plan-format.ts): BatchNormalization folded into
 * convs, every tensor's per-sample shape inferred, Relu and ResNet shortcut adds fused into the conv
 * before them, all weights in one float32 blob. Anything outside the subset the addon runs is refused
 * here, at load, with the node that caused it, never discovered on the GPU at inference time.
 */

export interface CompiledPlan {
  readonly plan: NativePlan;
  readonly weights: Float32Array;
  /** Per-sample input shape [C, H, W]. */
  readonly inputShape: readonly number[];
  /**
   * Per-sample shape of the graph output as the graph computes it, e.g. [1000]. The plan's output
   * tensor may be declared as its [C,1,1] alias, so sessions report this one.
   */
  readonly outputShape: readonly number[];
}

/** Each weight starts on a 256-byte boundary, which cuDNN/cuBLAS kernels need for their fastest paths. */
const WEIGHT_ALIGN = 64;

/** A graph value: the plan tensor holding it and its per-sample shape (aliases share a tensor). */
interface Value {
  readonly tensor: number;
  readonly shape: readonly number[];
}

const unsupported = (what: string): OfsError => ofsError('OFS_NATIVE_UNSUPPORTED', what);
const describe = (node: Node): string => `${node.op} (node '${node.name}')`;
const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const showShape = (shape: readonly number[]): string => `[${shape.join(',')}]`;

class WeightsBlob {
  readonly #chunks: { offset: number; values: Float32Array }[] = [];
  #length = 0;

  add(values: Float32Array): WeightRef {
    const offset = Math.ceil(this.#length / WEIGHT_ALIGN) * WEIGHT_ALIGN;
    this.#chunks.push({ offset, values });
    this.#length = offset + values.length;
    return { offset, length: values.length };
  }

  build(): Float32Array {
    const out = new Float32Array(this.#length);
    for (const { offset, values } of this.#chunks) out.set(values, offset);
    return out;
  }
}

function ints(node: Node, name: string, length: number, fallback: readonly number[]): number[] {
  const a: Attr | undefined = node.attrs[name];
  if (a === undefined) return [...fallback];
  if (a.kind !== 'ints' || a.value.length !== length) throw unsupported(`${describe(node)}: attribute ${name} must list ${length} integers`);
  return [...a.value];
}

function int(node: Node, name: string, fallback: number): number {
  const a = node.attrs[name];
  if (a === undefined) return fallback;
  if (a.kind !== 'int') throw unsupported(`${describe(node)}: attribute ${name} must be an integer`);
  return a.value;
}

function float(node: Node, name: string, fallback: number): number {
  const a = node.attrs[name];
  if (a === undefined) return fallback;
  if (a.kind !== 'float') throw unsupported(`${describe(node)}: attribute ${name} must be a float`);
  return a.value;
}

/** Row-major [rows, cols] → [cols, rows]. */
function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c] as number;
  return out;
}

/**
 * Output size and explicit pads of a 2-D window (conv or pool) over [h, w], after ONNX's auto_pad.
 * Pads are [top, left, bottom, right], which is ONNX's [x1_begin, x2_begin, x1_end, x2_end].
 */
function window2d(
  node: Node,
  h: number,
  w: number,
  kernel: readonly [number, number],
  strides: readonly [number, number],
  dilations: readonly [number, number],
): { pads: [number, number, number, number]; out: [number, number] } {
  const autoPad = node.attrs.auto_pad?.kind === 'string' ? node.attrs.auto_pad.value : 'NOTSET';
  let pads = ints(node, 'pads', 4, [0, 0, 0, 0]) as [number, number, number, number];
  const extent = (i: 0 | 1): number => dilations[i] * (kernel[i] - 1) + 1;
  if (autoPad === 'VALID') pads = [0, 0, 0, 0];
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    // Output ceil(d / stride); the odd pad goes at the end for SAME_UPPER, at the start for SAME_LOWER.
    const total = (d: number, i: 0 | 1): number => Math.max(0, (Math.ceil(d / strides[i]) - 1) * strides[i] + extent(i) - d);
    const [th, tw] = [total(h, 0), total(w, 1)];
    const first = (t: number): number => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2));
    pads = [first(th), first(tw), th - first(th), tw - first(tw)];
  } else if (autoPad !== 'NOTSET') throw unsupported(`${describe(node)}: auto_pad '${autoPad}'`);
  if (pads.some((p) => p < 0) || strides.some((s) => s < 1) || dilations.some((d) => d < 1) || kernel.some((k) => k < 1)) {
    throw unsupported(`${describe(node)}: negative pads or non-positive kernel, strides or dilations`);
  }
  const out: [number, number] = [
    Math.floor((h + pads[0] + pads[2] - extent(0)) / strides[0]) + 1,
    Math.floor((w + pads[1] + pads[3] - extent(1)) / strides[1]) + 1,
  ];
  if (out[0] < 1 || out[1] < 1) throw unsupported(`${describe(node)}: the window does not fit the ${h}x${w} input`);
  return { pads, out };
}

class Lowering {
  readonly steps: DraftStep[] = [];
  readonly shapes: (readonly number[])[] = [];
  readonly weights = new WeightsBlob();
  readonly #values = new Map<string, Value>();
  readonly #constants = new Map<string, Initializer>();
  readonly #opset: number;
  /** The graph's batch dimension is 1, not dynamic. */
  readonly #fixedBatch: boolean;

  constructor(graph: Graph, fixedBatch: boolean) {
    this.#opset = graph.opset;
    this.#fixedBatch = fixedBatch;
    for (const init of graph.initializers) this.#constants.set(init.name, init);
  }

  newTensor(shape: readonly number[]): number {
    this.shapes.push([...shape]);
    return this.shapes.length - 1;
  }

  define(name: string, value: Value): void {
    this.#values.set(name, value);
  }

  value(name: string): Value | undefined {
    return this.#values.get(name);
  }

  lower(node: Node): void {
    if ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx') throw unsupported(`operator '${node.domain}.${node.op}' (node '${node.name}')`);
    const out = node.outputs[0] ?? '';
    switch (node.op) {
      case 'Constant': return this.#defineConstant(node);
      case 'Conv': return this.#conv(node, out);
      case 'MaxPool':
      case 'AveragePool': return this.#pool(node, out);
      case 'GlobalAveragePool': {
        const x = this.#activation(node, 0, 3);
        return this.#emit(out, [x.shape[0]!, 1, 1], (y) => ({ op: 'globalavgpool', x: x.tensor, y }));
      }
      case 'Add': return this.#add(node, out);
      case 'Relu': {
        const x = this.#activation(node, 0);
        return this.#emit(out, x.shape, (y) => ({ op: 'relu', x: x.tensor, y }));
      }
      case 'Gemm': return this.#gemm(node, out);
      case 'MatMul': return this.#matmul(node, out);
      case 'Flatten': return this.#flatten(node, out);
      case 'Reshape': return this.#reshape(node, out);
      case 'Softmax': return this.#softmax(node, out);
      case 'Identity': return this.define(out, this.#activation(node, 0));
      default:
        throw unsupported(`operator '${node.op}' (node '${node.name}')`);
    }
  }

  #emit(out: string, shape: readonly number[], step: (y: number) => DraftStep): void {
    const y = this.newTensor(shape);
    this.steps.push(step(y));
    this.define(out, { tensor: y, shape });
  }

  /** Input `i` of `node` as a computed value (of per-sample rank `rank` when given). */
  #activation(node: Node, i: number, rank?: number): Value {
    const name = node.inputs[i] ?? '';
    const v = this.#values.get(name);
    if (!v) {
      if (this.#constants.has(name)) throw unsupported(`${describe(node)}: input ${i} is a constant ('${name}'), the GPU backend needs a computed tensor there`);
      throw ofsError('OFS_GRAPH_INVALID', `input '${name}' of node '${node.name}' is never defined`);
    }
    if (rank !== undefined && v.shape.length !== rank) {
      const want = rank === 3 ? '[N,C,H,W]' : '[N,C]';
      throw unsupported(`${describe(node)}: input '${name}' is [N,${v.shape.join(',')}], expected ${want}`);
    }
    return v;
  }

  /** A Constant node defines a constant value, like an initializer. */
  #defineConstant(node: Node): void {
    const value = node.attrs.value;
    if (value?.kind !== 'tensor') throw unsupported(`${describe(node)}: only a tensor 'value' is supported`);
    const name = node.outputs[0] ?? '';
    this.#constants.set(name, { ...value.value, name });
  }

  /** Input `i` of `node` as a constant (an initializer or a Constant node). */
  #constant(node: Node, i: number, role: string): Initializer {
    const name = node.inputs[i] ?? '';
    const c = this.#constants.get(name);
    if (!c) throw unsupported(`${describe(node)}: the ${role} ('${name}') is computed; the GPU backend needs a constant`);
    if (role !== 'shape' && c.dtype !== 'FP32') throw unsupported(`${describe(node)}: the ${role} ('${name}') is ${c.dtype}, not FP32`);
    return c;
  }

  #conv(node: Node, out: string): void {
    const x = this.#activation(node, 0, 3);
    const [c, h, w] = x.shape as [number, number, number];
    const wInit = this.#constant(node, 1, 'weight');
    if (wInit.shape.length !== 4) throw unsupported(`${describe(node)}: only 2-D convolutions are supported (weight ${showShape(wInit.shape)})`);
    const [k, cPerGroup, r, s] = wInit.shape as [number, number, number, number];
    const groups = int(node, 'group', 1);
    if (groups < 1 || cPerGroup * groups !== c || k % groups !== 0) {
      throw ofsError('OFS_GRAPH_INVALID', `Conv '${node.name}': weight ${showShape(wInit.shape)} with group ${groups} does not fit ${c} input channels`);
    }
    const kernel = ints(node, 'kernel_shape', 2, [r, s]);
    if (kernel[0] !== r || kernel[1] !== s) throw ofsError('OFS_GRAPH_INVALID', `Conv '${node.name}': kernel_shape ${showShape(kernel)} differs from its weight ${showShape(wInit.shape)}`);
    const strides = ints(node, 'strides', 2, [1, 1]) as [number, number];
    const dilations = ints(node, 'dilations', 2, [1, 1]) as [number, number];
    const { pads, out: [oh, ow] } = window2d(node, h, w, [r, s], strides, dilations);
    // cuDNN's 2-D convolution pads both sides of an axis alike.
    if (pads[0] !== pads[2] || pads[1] !== pads[3]) throw unsupported(`${describe(node)}: asymmetric pads ${showShape(pads)}`);

    const biasName = node.inputs[2] ?? '';
    let bias: Float32Array = new Float32Array(k); // the plan always has a bias; zeros cost K floats
    if (biasName !== '') {
      bias = float32Values(this.#constant(node, 2, 'bias'));
      if (bias.length !== k) throw ofsError('OFS_GRAPH_INVALID', `Conv '${node.name}': bias has ${bias.length} values for ${k} output channels`);
    }
    const weight = { ...this.weights.add(float32Values(wInit)), shape: [k, cPerGroup, r, s] as const };
    const biasRef = this.weights.add(bias);
    this.#emit(out, [k, oh, ow], (y) => ({ op: 'conv', x: x.tensor, y, weight, bias: biasRef, strides, pads, dilations, groups, relu: false }));
  }

  #pool(node: Node, out: string): void {
    const x = this.#activation(node, 0, 3);
    const [c, h, w] = x.shape as [number, number, number];
    if (node.outputs.slice(1).some((o) => o !== '')) throw unsupported(`${describe(node)}: the Indices output`);
    if (int(node, 'ceil_mode', 0) !== 0) throw unsupported(`${describe(node)}: ceil_mode 1`);
    if (!node.attrs.kernel_shape) throw ofsError('OFS_GRAPH_INVALID', `${node.op} '${node.name}' has no kernel_shape`);
    const kernel = ints(node, 'kernel_shape', 2, []) as [number, number];
    const dilations = ints(node, 'dilations', 2, [1, 1]);
    if (dilations.some((d) => d !== 1)) throw unsupported(`${describe(node)}: dilations ${showShape(dilations)}`);
    const strides = ints(node, 'strides', 2, [1, 1]) as [number, number];
    const { pads, out: [oh, ow] } = window2d(node, h, w, kernel, strides, [1, 1]);
    // A pad as wide as the window would make windows of padding only (and cuDNN refuses it).
    if (pads.some((p, i) => p >= kernel[i % 2]!)) throw unsupported(`${describe(node)}: pads ${showShape(pads)} not smaller than the kernel ${showShape(kernel)}`);
    if (node.op === 'MaxPool') {
      this.#emit(out, [c, oh, ow], (y) => ({ op: 'maxpool', x: x.tensor, y, kernel, strides, pads }));
    } else {
      const countIncludePad = int(node, 'count_include_pad', 0) === 1;
      this.#emit(out, [c, oh, ow], (y) => ({ op: 'avgpool', x: x.tensor, y, kernel, strides, pads, countIncludePad }));
    }
  }

  #add(node: Node, out: string): void {
    const a = this.#activation(node, 0);
    const b = this.#activation(node, 1);
    if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
      throw unsupported(`${describe(node)}: broadcasting [N,${a.shape.join(',')}] with [N,${b.shape.join(',')}]`);
    }
    this.#emit(out, a.shape, (y) => ({ op: 'add', a: a.tensor, b: b.tensor, y, relu: false }));
  }

  #gemm(node: Node, out: string): void {
    const x = this.#activation(node, 0, 1);
    if (int(node, 'transA', 0) !== 0) throw unsupported(`${describe(node)}: transA 1`);
    const bInit = this.#constant(node, 1, 'weight');
    if (bInit.shape.length !== 2) throw ofsError('OFS_GRAPH_INVALID', `Gemm '${node.name}': weight ${showShape(bInit.shape)} is not a matrix`);
    const transB = int(node, 'transB', 0) === 1;
    const [rows, cols] = bInit.shape as [number, number];
    const [n, k] = transB ? [rows, cols] : [cols, rows];
    let weight = float32Values(bInit);
    // The plan's gemm is x·Wᵀ (nn.Linear); a [K,N] weight is transposed once, here, not per inference.
    if (!transB) weight = transpose(weight, rows, cols);
    const alpha = float(node, 'alpha', 1);
    if (alpha !== 1) weight = weight.map((v) => v * alpha);
    let bias: Float32Array | undefined;
    if ((node.inputs[2] ?? '') !== '') {
      const cInit = this.#constant(node, 2, 'bias');
      const c = float32Values(cInit);
      const last = cInit.shape.length === 0 ? 1 : (cInit.shape[cInit.shape.length - 1] as number);
      if (!(c.length === n && last === n) && c.length !== 1) {
        throw unsupported(`${describe(node)}: bias ${showShape(cInit.shape)} is not per output feature (${n})`);
      }
      const beta = float(node, 'beta', 1);
      bias = c.length === n ? c.map((v) => v * beta) : new Float32Array(n).fill((c[0] as number) * beta);
    }
    this.#linear(node, out, x, weight, n, k, bias);
  }

  #matmul(node: Node, out: string): void {
    const x = this.#activation(node, 0, 1);
    const bInit = this.#constant(node, 1, 'weight');
    if (bInit.shape.length !== 2) throw unsupported(`${describe(node)}: weight ${showShape(bInit.shape)} is not a matrix`);
    const [k, n] = bInit.shape as [number, number];
    this.#linear(node, out, x, transpose(float32Values(bInit), k, n), n, k, undefined);
  }

  #linear(node: Node, out: string, x: Value, weight: Float32Array, n: number, k: number, bias: Float32Array | undefined): void {
    if (x.shape[0] !== k) throw ofsError('OFS_GRAPH_INVALID', `${node.op} '${node.name}': input has ${x.shape[0]} features, the weight expects ${k}`);
    const weightRef = { ...this.weights.add(weight), shape: [n, k] as const };
    const biasRef = bias ? this.weights.add(bias) : undefined;
    this.#emit(out, [n], (y) => ({ op: 'gemm', x: x.tensor, y, weight: weightRef, ...(biasRef ? { bias: biasRef } : {}), relu: false }));
  }

  #flatten(node: Node, out: string): void {
    const x = this.#activation(node, 0);
    const rank = x.shape.length + 1;
    const axis = int(node, 'axis', 1);
    if ((axis < 0 ? axis + rank : axis) !== 1) throw unsupported(`${describe(node)}: axis ${axis} (only 1, keeping the batch dimension, is supported)`);
    this.#alias(node, out, x, [size(x.shape)]);
  }

  #reshape(node: Node, out: string): void {
    const x = this.#activation(node, 0);
    const spec = integerValues(this.#constant(node, 1, 'shape'));
    const allowZero = int(node, 'allowzero', 0) === 1;
    const [first, ...restSpec] = spec;
    // The first dimension must stay the batch: copied (0), inferred (-1), or 1 in a batch-1 model.
    const keepsBatch = (first === 0 && !allowZero) || first === -1 || (first === 1 && this.#fixedBatch);
    if (!keepsBatch) throw unsupported(`${describe(node)}: shape ${showShape(spec)} does not keep the batch dimension first`);
    let rest = restSpec.map((d, i) => (d === 0 && !allowZero ? (x.shape[i] ?? NaN) : d));
    const unknown = rest.filter((d) => d === -1).length;
    if (unknown > (first === -1 ? 0 : 1) || rest.some((d) => Number.isNaN(d) || d < -1 || d === 0)) {
      throw unsupported(`${describe(node)}: shape ${showShape(spec)} of a [N,${x.shape.join(',')}] tensor`);
    }
    const perSample = size(x.shape);
    if (unknown === 1) {
      const known = size(rest.filter((d) => d !== -1));
      rest = rest.map((d) => (d === -1 ? perSample / known : d));
    }
    if (size(rest) !== perSample || !rest.every(Number.isInteger)) {
      throw ofsError('OFS_GRAPH_INVALID', `Reshape '${node.name}': cannot reshape [N,${x.shape.join(',')}] to ${showShape(spec)}`);
    }
    this.#alias(node, out, x, rest);
  }

  /**
   * Flatten/Reshape/Identity share the tensor (NCHW is contiguous). The plan allows exactly the views
   * between [C,1,1] and [C] (and no-op ones): others would hand a conv or pool a tensor whose declared
   * shape is not the one it reads.
   */
  #alias(node: Node, out: string, x: Value, shape: readonly number[]): void {
    const same = shape.length === x.shape.length && shape.every((d, i) => d === x.shape[i]);
    const squeezed = shape.length === 1 && x.shape.slice(1).every((d) => d === 1);
    if (!same && !squeezed) {
      throw unsupported(`${describe(node)}: reshaping [N,${x.shape.join(',')}] to [N,${shape.join(',')}] (only [N,C,1,1] to [N,C] is supported)`);
    }
    this.define(out, { tensor: x.tensor, shape });
  }

  #softmax(node: Node, out: string): void {
    const x = this.#activation(node, 0);
    const rank = x.shape.length + 1;
    const axis = int(node, 'axis', this.#opset >= 13 ? -1 : 1);
    // Below opset 13 Softmax flattens from `axis` on; on [N,C] both readings are the class axis.
    if (rank !== 2 || (axis < 0 ? axis + rank : axis) !== 1) {
      throw unsupported(`${describe(node)}: softmax over axis ${axis} of [N,${x.shape.join(',')}] (only over the classes of [N,C])`);
    }
    this.#emit(out, x.shape, (y) => ({ op: 'softmax', x: x.tensor, y }));
  }
}

/** Compiles `graph` (one FP32 [N,C,H,W] input, one output) into a plan and its weights blob. */
export function compilePlan(graph: Graph): CompiledPlan {
  if (graph.inputs.length !== 1) throw unsupported(`it has ${graph.inputs.length} inputs; the GPU backend takes exactly one image tensor`);
  if (graph.outputs.length !== 1) throw unsupported(`it has ${graph.outputs.length} outputs; the GPU backend produces exactly one`);
  const input = graph.inputs[0]!;
  const output = graph.outputs[0]!;
  if (input.dtype !== 'FP32') throw unsupported(`input '${input.name}' is ${input.dtype}; the GPU backend takes FP32`);
  if (output.dtype !== 'FP32') throw unsupported(`output '${output.name}' is ${output.dtype}; the GPU backend produces FP32`);
  const [batch, ...perSample] = input.shape;
  if (input.shape.length !== 4 || (batch !== -1 && batch !== 1) || perSample.some((d) => !(d > 0))) {
    throw unsupported(`input '${input.name}' is ${showShape(input.shape)}; the GPU backend needs [N,C,H,W] with C, H and W fixed`);
  }

  const folded = foldBatchNorm(graph);
  const lowering = new Lowering(folded, batch === 1);
  const inputTensor = lowering.newTensor(perSample);
  lowering.define(input.name, { tensor: inputTensor, shape: perSample });
  for (const node of folded.nodes) lowering.lower(node);

  const result = lowering.value(output.name);
  if (!result) throw ofsError('OFS_GRAPH_INVALID', `output '${output.name}' is never computed`);
  if (result.tensor === inputTensor) throw unsupported(`output '${output.name}' is the input itself; there is nothing to run`);
  const declared = output.shape.slice(1);
  if (output.shape.length !== result.shape.length + 1 || declared.some((d, i) => d !== -1 && d !== result.shape[i])) {
    throw ofsError('OFS_GRAPH_INVALID', `output '${output.name}' is declared ${showShape(output.shape)} but the graph computes [N,${result.shape.join(',')}]`);
  }

  const fused = fusePlanSteps(lowering.steps, lowering.shapes, inputTensor, result.tensor);
  const weights = lowering.weights.build();
  const plan: NativePlan = {
    version: PLAN_VERSION,
    input: { name: input.name, tensor: fused.input },
    output: { name: output.name, tensor: fused.output },
    tensors: fused.tensors,
    steps: fused.steps,
    weightCount: weights.length,
  };
  return { plan, weights, inputShape: perSample, outputShape: result.shape };
}
