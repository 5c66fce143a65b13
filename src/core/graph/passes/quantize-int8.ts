import { ofsError } from '../../../errors.js';
import type { Attr, Graph, Initializer, Node } from '../ir.js';
import { foldBatchNorm } from './fold-batchnorm.js';
import { float32Initializer, float32Values } from './initializer-values.js';

/** Observed value range of one activation tensor over the calibration inputs. */
export interface ActivationRange {
  readonly min: number;
  readonly max: number;
}

/**
 * Static INT8 quantization in QDQ form, the layout onnxruntime's QDQ fusion turns into integer kernels
 * (QLinearConv / QGemm / QLinearAdd, VNNI or AMX where the CPU has them):
 * - Conv and Gemm weights: per output channel, symmetric INT8 initializers → DequantizeLinear(axis);
 *   biases INT32 with scale input_scale × weight_scale, as the integer kernels require.
 * - Activations read or written by Conv, Gemm and Add: per tensor, asymmetric UINT8 from the
 *   calibrated range, QuantizeLinear once after the producer and one DequantizeLinear per consumer
 *   (onnxruntime groups a DQ with exactly one node).
 * - A Relu that is the only reader of such an op's output is dropped: its output range starts at 0,
 *   so the zero point is 0 and QuantizeLinear's saturation is the Relu.
 * Everything else stays FP32 between a DQ and a Q. Pure: graph and ranges in, new graph out.
 */

const QUANTIZED_OPS = new Set(['Conv', 'Gemm', 'Add']);
/** Ops that only move or select values: their output keeps their input's scale, so onnxruntime can run them on integers. */
const SAME_SCALE_OPS = new Set(['MaxPool']);
const WEIGHT_MAX = 127;
const ACTIVATION_LEVELS = 255;

interface Plan {
  readonly graph: Graph;
  /** Node index → the Relu output its output is renamed to (the Relu is dropped). */
  readonly fusedRelu: ReadonlyMap<number, string>;
  readonly droppedRelu: ReadonlySet<number>;
  /** Activations that get a QuantizeLinear, in graph order. */
  readonly quantized: readonly string[];
  /** Node indices with quantized weights (Conv/Gemm with an FP32 constant weight). */
  readonly weighted: ReadonlySet<number>;
}

/** The BN-folded graph the calibration must run, and the activation names it needs ranges for. */
export function quantizationTargets(graph: Graph): { graph: Graph; activations: string[] } {
  const plan = planQuantization(graph);
  return { graph: plan.graph, activations: [...plan.quantized] };
}

export function quantizeInt8(input: Graph, ranges: ReadonlyMap<string, ActivationRange>): Graph {
  const plan = planQuantization(input);
  const graph = plan.graph;
  const inits = new Map(graph.initializers.map((i) => [i.name, i]));
  const taken = new Set([...graph.initializers.map((i) => i.name), ...graph.nodes.flatMap((n) => n.outputs), ...graph.inputs.map((i) => i.name)]);
  const fresh = (base: string): string => {
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };
  const added: Initializer[] = [];
  const nodes: Node[] = [];

  // Activation parameters; MaxPool outputs borrow their input's so onnxruntime drops the pair around it.
  const params = new Map<string, { scale: string; zeroPoint: string; scaleValue: number; q: string }>();
  const producerOf = new Map<string, Node>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o, k) => producerOf.set(k === 0 ? plan.fusedRelu.get(i) ?? o : o, n)));
  const defineParams = (tensor: string): void => {
    const producer = producerOf.get(tensor);
    const borrowed = producer && SAME_SCALE_OPS.has(producer.op) ? params.get(producer.inputs[0] ?? '') : undefined;
    let scale: string, zeroPoint: string, scaleValue: number;
    if (borrowed) ({ scale, zeroPoint, scaleValue } = borrowed);
    else {
      const range = ranges.get(tensor);
      if (!range) throw ofsError('OFS_GRAPH_INVALID', `no calibration range for activation ${tensor}`);
      const p = activationParams(range);
      scaleValue = p.scale;
      scale = fresh(`${tensor}_scale`);
      zeroPoint = fresh(`${tensor}_zero_point`);
      added.push(float32Initializer(scale, [], Float32Array.of(p.scale)), { name: zeroPoint, dtype: 'UINT8', shape: [], data: Uint8Array.of(p.zeroPoint) });
    }
    const q = fresh(`${tensor}_quantized`);
    params.set(tensor, { scale, zeroPoint, scaleValue, q });
    nodes.push({ op: 'QuantizeLinear', name: fresh(`${tensor}_QuantizeLinear`), inputs: [tensor, scale, zeroPoint], outputs: [q], attrs: {} });
  };
  const quantized = new Set(plan.quantized);
  for (const i of graph.inputs) if (quantized.has(i.name)) defineParams(i.name);

  graph.nodes.forEach((node, index) => {
    if (plan.droppedRelu.has(index)) return;
    const inputs = [...node.inputs];
    // Activations: a DQ of its own for this node.
    inputs.forEach((name, k) => {
      const p = params.get(name);
      if (!p || (plan.weighted.has(index) && k > 0)) return;
      const dq = fresh(`${name}_dequantized`);
      nodes.push({ op: 'DequantizeLinear', name: fresh(`${name}_DequantizeLinear`), inputs: [p.q, p.scale, p.zeroPoint], outputs: [dq], attrs: {} });
      inputs[k] = dq;
    });
    if (plan.weighted.has(index)) {
      const inputScale = params.get(node.inputs[0] ?? '')?.scaleValue;
      const weight = inits.get(node.inputs[1] ?? '') as Initializer;
      const axis = node.op === 'Gemm' && !attrIs(node.attrs.transB, 1) ? 1 : 0;
      const q = quantizeWeight(weight, axis);
      const wq = fresh(`${weight.name}_quantized`), ws = fresh(`${weight.name}_scale`), wz = fresh(`${weight.name}_zero_point`), wdq = fresh(`${weight.name}_dequantized`);
      const channels = q.scales.length;
      added.push(
        { name: wq, dtype: 'INT8', shape: [...weight.shape], data: new Uint8Array(q.values.buffer) },
        float32Initializer(ws, [channels], q.scales),
        { name: wz, dtype: 'INT8', shape: [channels], data: new Uint8Array(channels) },
      );
      nodes.push({ op: 'DequantizeLinear', name: fresh(`${weight.name}_DequantizeLinear`), inputs: [wq, ws, wz], outputs: [wdq], attrs: { axis: { kind: 'int', value: axis } } });
      inputs[1] = wdq;
      const bias = inits.get(node.inputs[2] ?? '');
      if (bias && inputScale !== undefined && bias.dtype === 'FP32' && bias.shape.length === 1 && bias.shape[0] === channels) {
        const b = quantizeBias(float32Values(bias), inputScale, q.scales);
        const bq = fresh(`${bias.name}_quantized`), bs = fresh(`${bias.name}_scale`), bdq = fresh(`${bias.name}_dequantized`);
        added.push({ name: bq, dtype: 'INT32', shape: [channels], data: new Uint8Array(b.values.buffer) }, float32Initializer(bs, [channels], b.scales));
        nodes.push({ op: 'DequantizeLinear', name: fresh(`${bias.name}_DequantizeLinear`), inputs: [bq, bs], outputs: [bdq], attrs: { axis: { kind: 'int', value: 0 } } });
        inputs[2] = bdq;
      }
    }
    const fused = plan.fusedRelu.get(index);
    const outputs = fused === undefined ? [...node.outputs] : [fused, ...node.outputs.slice(1)];
    nodes.push({ ...node, inputs, outputs });
    for (const o of outputs) if (quantized.has(o)) defineParams(o);
  });

  const referenced = new Set(nodes.flatMap((n) => n.inputs));
  return { ...graph, nodes, initializers: [...graph.initializers, ...added].filter((i) => referenced.has(i.name)) };
}

function planQuantization(input: Graph): Plan {
  const graph = foldBatchNorm(input);
  const inits = new Map(graph.initializers.map((i) => [i.name, i]));
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const consumers = new Map<string, number[]>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((name) => name !== '' && consumers.set(name, [...(consumers.get(name) ?? []), i])));
  const isDefault = (n: Node): boolean => (n.domain ?? '') === '';

  const weighted = new Set<number>();
  const targets = new Set<number>();
  graph.nodes.forEach((n, i) => {
    if (!isDefault(n) || !QUANTIZED_OPS.has(n.op)) return;
    if (n.op === 'Add') {
      if (n.inputs.length === 2 && n.inputs.every((x) => !inits.has(x))) targets.add(i);
      return;
    }
    const w = inits.get(n.inputs[1] ?? '');
    if (!w || w.dtype !== 'FP32') return;
    if (n.op === 'Conv' && w.shape.length < 3) return;
    if (n.op === 'Gemm' && (w.shape.length !== 2 || attrIs(n.attrs.transA, 1) || !attrIs(n.attrs.alpha, 1, true) || !attrIs(n.attrs.beta, 1, true))) return;
    if (inits.has(n.inputs[0] ?? '')) return;
    weighted.add(i);
    targets.add(i);
  });

  const fusedRelu = new Map<number, string>();
  const droppedRelu = new Set<number>();
  for (const i of targets) {
    const out = graph.nodes[i]?.outputs[0] ?? '';
    const readers = consumers.get(out) ?? [];
    const relu = readers.length === 1 ? graph.nodes[readers[0] as number] : undefined;
    if (!relu || relu.op !== 'Relu' || !isDefault(relu) || graphOutputs.has(out)) continue;
    fusedRelu.set(i, relu.outputs[0] as string);
    droppedRelu.add(readers[0] as number);
  }

  const quantized = new Set<string>();
  for (const i of [...targets].sort((a, b) => a - b)) {
    const n = graph.nodes[i] as Node;
    const activations = n.op === 'Add' ? n.inputs : [n.inputs[0] as string];
    for (const a of activations) quantized.add(a);
    const out = fusedRelu.get(i) ?? (n.outputs[0] as string);
    if (!graphOutputs.has(out)) quantized.add(out);
  }
  // Graph order, so a producer's Q is defined before a MaxPool that borrows its parameters.
  const order = [...graph.inputs.map((i) => i.name), ...graph.nodes.flatMap((n, i) => (droppedRelu.has(i) ? [] : [fusedRelu.get(i) ?? n.outputs[0], ...n.outputs.slice(1)]))];
  return { graph, fusedRelu, droppedRelu, weighted, quantized: order.filter((n): n is string => n !== undefined && quantized.has(n)) };
}

/** UINT8 asymmetric parameters covering [min, max] and 0 (so zero padding is exact). */
export function activationParams(range: ActivationRange): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, range.min);
  const hi = Math.max(0, range.max);
  if (!(Number.isFinite(lo) && Number.isFinite(hi)) || hi - lo === 0) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((hi - lo) / ACTIVATION_LEVELS);
  const zeroPoint = Math.min(ACTIVATION_LEVELS, Math.max(0, Math.round(-lo / scale)));
  return { scale, zeroPoint };
}

/** Symmetric INT8 per slice along `axis` (0: Conv's output channels or Gemm's transB rows; 1: Gemm's columns). */
export function quantizeWeight(weight: Initializer, axis: 0 | 1): { values: Int8Array; scales: Float32Array } {
  const w = float32Values(weight);
  const channels = weight.shape[axis] as number;
  const inner = weight.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (j: number): number => Math.floor(j / inner) % channels;
  const absMax = new Float64Array(channels);
  for (let j = 0; j < w.length; j++) absMax[channelOf(j)] = Math.max(absMax[channelOf(j)] as number, Math.abs(w[j] as number));
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scales[c] = (absMax[c] as number) > 0 ? (absMax[c] as number) / WEIGHT_MAX : 1;
  const values = new Int8Array(w.length);
  for (let j = 0; j < w.length; j++) {
    values[j] = Math.max(-WEIGHT_MAX, Math.min(WEIGHT_MAX, Math.round((w[j] as number) / (scales[channelOf(j)] as number))));
  }
  return { values, scales };
}

function quantizeBias(bias: Float32Array, inputScale: number, weightScales: Float32Array): { values: Int32Array; scales: Float32Array } {
  const scales = new Float32Array(bias.length);
  const values = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    scales[c] = inputScale * (weightScales[c] as number);
    const q = Math.round((bias[c] as number) / (scales[c] as number));
    values[c] = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, q));
  }
  return { values, scales };
}

function attrIs(a: Attr | undefined, value: number, absentMeans = false): boolean {
  if (a === undefined) return absentMeans;
  return (a.kind === 'int' || a.kind === 'float') && a.value === value;
}
