import { attr, type Attr } from '../ir.js';
import { elemToWire } from './mlir-attrs.js';
import type { OpScope } from './import-scope.js';

/**
 * One converter per supported OneFlow op type: each reads the op's operands and attributes (OneFlow
 * semantics, from OneFlowUserOps.td / OneFlowBase.td) and emits IR nodes with ONNX semantics.
 */
export type Converter = (s: OpScope) => void;

const NCHW_FROM_NHWC = [0, 3, 1, 2];
const NHWC_FROM_NCHW = [0, 2, 3, 1];

/**
 * Runs `body` on NCHW data: for `channels_last` ops the input is transposed in and the result
 * transposed back, since ONNX Conv/pool/BatchNormalization only know channels-first.
 */
function withLayout(s: OpScope, x: string, body: (nchw: string, out: string) => void): void {
  const format = s.attrs.string('data_format', 'channels_first');
  const out = s.result(0);
  if (format === 'channels_first') return body(x, out);
  if (format !== 'channels_last') s.fail(`unknown data_format '${format}'`);
  const xIn = s.emitTemp('Transpose', [x], { perm: attr.ints(NCHW_FROM_NHWC) }, 'to_nchw');
  const yOut = s.temp('nchw_out');
  body(xIn, yOut);
  s.emit('Transpose', [yOut], [out], { perm: attr.ints(NHWC_FROM_NCHW) }, 'to_nhwc');
}

/** Adds the optional `_add_to_output` operand (a fused residual) to `value`, giving `out`. */
function addToOutput(s: OpScope, value: string, addend: string | undefined, out: string, scale = 1): void {
  if (addend === undefined) {
    if (value !== out) s.emit('Identity', [value], [out], {}, 'identity');
    return;
  }
  let extra = s.value(addend);
  if (scale !== 1) extra = s.emitTemp('Mul', [extra, s.constScalar('beta', scale, dtypeOf(s, addend))], {}, 'scale_addend');
  s.emit('Add', [value, extra], [out], {}, 'add_to_output');
}

function dtypeOf(s: OpScope, ssa: string) {
  const dtype = elemToWire(s.tensorType(ssa).elem);
  if (!dtype) s.fail(`element type ${s.tensorType(ssa).elem} is not supported`);
  return dtype;
}

function pair(s: OpScope, name: string, values: number[]): [number, number] {
  if (values.length === 1) return [values[0] as number, values[0] as number];
  if (values.length !== 2) s.fail(`attribute '${name}' must hold 2 values for a 2-D op`);
  return [values[0] as number, values[1] as number];
}

// ── convolution ──────────────────────────────────────────────────────────────────────────────────────
const conv2d: Converter = (s) => {
  const g = s.operands(['in', 'weight', 'bias', '_add_to_output']);
  const x = s.required(g, 'in');
  const w = s.required(g, 'weight');
  const b = s.optional(g, 'bias');
  const add = s.optional(g, '_add_to_output');
  const kernel = pair(s, 'kernel_size', s.attrs.ints('kernel_size'));
  const strides = pair(s, 'strides', s.attrs.ints('strides', [1, 1]));
  const dil = pair(s, 'dilation_rate', s.attrs.ints('dilation_rate', [1, 1]));
  const before = pair(s, 'padding_before', s.attrs.ints('padding_before', [0, 0]));
  // OneFlow pads symmetrically from padding_before; a padding_after, where printed, is honoured.
  const after = s.attrs.has('padding_after') ? pair(s, 'padding_after', s.attrs.ints('padding_after')) : before;
  const attrs: Record<string, Attr> = {
    kernel_shape: attr.ints(kernel),
    strides: attr.ints(strides),
    pads: attr.ints([...before, ...after]),
    dilations: attr.ints(dil),
    group: attr.int(s.attrs.int('groups', 1)),
  };
  const channelsLast = s.attrs.string('data_format', 'channels_first') === 'channels_last';
  let weight = s.value(w);
  // A channels_last filter is [out, kh, kw, in/groups]; ONNX wants [out, in/groups, kh, kw].
  if (channelsLast) weight = s.emitTemp('Transpose', [weight], { perm: attr.ints(NCHW_FROM_NHWC) }, 'weight_to_oihw');
  withLayout(s, s.value(x), (nchw, out) => {
    const inputs = b === undefined ? [nchw, weight] : [nchw, weight, s.value(b)];
    if (add === undefined) return s.emit('Conv', inputs, [out], attrs);
    const y = s.temp('conv');
    s.emit('Conv', inputs, [y], attrs);
    // The addend is in the op's own layout; bring it to NCHW alongside.
    const addend = channelsLast ? s.emitTemp('Transpose', [s.value(add)], { perm: attr.ints(NCHW_FROM_NHWC) }, 'addend_to_nchw') : s.value(add);
    s.emit('Add', [y, addend], [out], {}, 'add_to_output');
  });
};

// ── normalization ────────────────────────────────────────────────────────────────────────────────────

const normalization: Converter = (s) => {
  const g = s.operands(['x', 'moving_mean', 'moving_variance', 'gamma', 'beta', '_add_to_output']);
  const x = s.required(g, 'x');
  const mean = s.optional(g, 'moving_mean');
  const variance = s.optional(g, 'moving_variance');
  if (mean === undefined || variance === undefined) return s.unsupported('batch statistics without moving_mean/moving_variance');
  const gamma = s.required(g, 'gamma');
  const beta = s.required(g, 'beta');
  const add = s.optional(g, '_add_to_output');
  const rank = s.rank(x);
  let axis = s.attrs.int('axis', 1);
  if (axis < 0) axis += rank;
  if (s.attrs.bool('training', false)) s.noteTrainingMode();
  for (let i = 1; i < s.op.results.length; i++) s.resultUnavailable(i, 'a batch statistic that is only computed in training');
  const bnAttrs = { epsilon: attr.float(s.attrs.float('epsilon', 1e-5)) };
  const inputs = (xIn: string) => [xIn, s.value(gamma), s.value(beta), s.value(mean), s.value(variance)];
  const out = s.result(0);
  if (axis === 1) {
    if (add === undefined) return s.emit('BatchNormalization', inputs(s.value(x)), [out], bnAttrs);
    const y = s.temp('bn');
    s.emit('BatchNormalization', inputs(s.value(x)), [y], bnAttrs);
    return addToOutput(s, y, add, out);
  }
  if (rank === 4 && axis === 3) {
    const xIn = s.emitTemp('Transpose', [s.value(x)], { perm: attr.ints(NCHW_FROM_NHWC) }, 'to_nchw');
    const y = s.emitTemp('BatchNormalization', inputs(xIn), bnAttrs, 'bn');
    const back = add === undefined ? out : s.temp('bn_nhwc');
    s.emit('Transpose', [y], [back], { perm: attr.ints(NHWC_FROM_NCHW) }, 'to_nhwc');
    return addToOutput(s, back, add, out);
  }
  return s.unsupported(`normalization over axis ${axis} of a rank-${rank} tensor`);
};

// ── pooling ──────────────────────────────────────────────────────────────────────────────────────────
/** Window attributes shared by max and average pooling, in both the old and the new spelling. */
function poolAttrs(s: OpScope): Record<string, Attr> {
  const kernel = pair(s, 'kernel_size', s.attrs.has('kernel_size') ? s.attrs.ints('kernel_size') : s.attrs.ints('pool_size'));
  const strides = pair(s, 'stride', s.attrs.has('stride') ? s.attrs.ints('stride') : s.attrs.ints('strides', kernel));
  const out: Record<string, Attr> = { kernel_shape: attr.ints(kernel), strides: attr.ints(strides) };
  const padding = s.op.attrs.get('padding');
  if (padding?.kind === 'string') {
    // TF-style spelling: "valid", "same", or "customized" with explicit before/after lists.
    const mode = padding.value.toLowerCase();
    if (mode === 'same') out.auto_pad = attr.string('SAME_UPPER');
    else if (mode === 'customized') {
      const before = pair(s, 'padding_before', s.attrs.ints('padding_before'));
      const after = pair(s, 'padding_after', s.attrs.ints('padding_after', before));
      out.pads = attr.ints([...before, ...after]);
    } else if (mode !== 'valid') s.fail(`unknown padding '${padding.value}'`);
  } else {
    const p = pair(s, 'padding', s.attrs.ints('padding', [0, 0]));
    out.pads = attr.ints([...p, ...p]);
  }
  out.ceil_mode = attr.int(s.attrs.bool('ceil_mode', false) ? 1 : 0);
  return out;
}

const maxPool2d: Converter = (s) => {
  const x = s.arg(0);
  const attrs = poolAttrs(s);
  const dil = pair(s, 'dilation', s.attrs.ints('dilation', [1, 1]));
  if (dil[0] !== 1 || dil[1] !== 1) attrs.dilations = attr.ints(dil);
  s.resultUnavailable(1, 'the max-pool indices, which ofserve does not compute');
  withLayout(s, s.value(x), (nchw, out) => s.emit('MaxPool', [nchw], [out], attrs));
};

const avgPool2d: Converter = (s) => {
  const x = s.arg(0);
  const attrs = poolAttrs(s);
  const divisor = s.attrs.int('divisor_override', 0);
  if (divisor !== 0) s.unsupported(`divisor_override = ${divisor}`);
  attrs.count_include_pad = attr.int(s.attrs.bool('count_include_pad', false) ? 1 : 0);
  withLayout(s, s.value(x), (nchw, out) => s.emit('AveragePool', [nchw], [out], attrs));
};

const adaptiveAvgPool2d: Converter = (s) => {
  const x = s.arg(0);
  const size = s.attrs.ints('output_size');
  if (size.length === 0 || size.some((d) => d !== 1)) {
    s.unsupported(`output_size [${size.join(', ')}]: only output_size 1 (global average pooling) is supported`);
  }
  withLayout(s, s.value(x), (nchw, out) => s.emit('GlobalAveragePool', [nchw], [out]));
};

// ── elementwise ──────────────────────────────────────────────────────────────────────────────────────
const simple =
  (onnxOp: string, attrs: Record<string, Attr> = {}): Converter =>
  (s) => {
    const inputs = s.op.operands.map((o) => s.value(o));
    s.emit(onnxOp, inputs, [s.result(0)], attrs);
  };

const addN: Converter = (s) => {
  const inputs = s.op.operands.map((o) => s.value(o));
  if (inputs.length === 0) s.fail('needs at least one operand');
  const op = inputs.length === 1 ? 'Identity' : inputs.length === 2 ? 'Add' : 'Sum';
  s.emit(op, inputs, [s.result(0)]);
};

const biasAdd: Converter = (s) => {
  const a = s.arg(0);
  const b = s.arg(1);
  const rank = s.rank(a);
  let axis = s.attrs.int('axis', 0);
  if (axis < 0) axis += rank;
  const bias = s.value(b);
  if (axis === rank - 1) return s.emit('Add', [s.value(a), bias], [s.result(0)]);
  // Broadcast a 1-D bias along `axis`: reshape it to [C, 1, …, 1].
  const c = s.tensorType(b).shape?.[0] ?? -1;
  const shape = s.constInt64('bias_shape', [c, ...new Array<number>(rank - axis - 1).fill(1)]);
  const reshaped = s.emitTemp('Reshape', [bias, shape], {}, 'bias_reshape');
  s.emit('Add', [s.value(a), reshaped], [s.result(0)]);
};

// ── matrix products ──────────────────────────────────────────────────────────────────────────────────
/** Swaps the last two axes of a rank-`rank` value. */
function transposeLast2(s: OpScope, value: string, rank: number, suffix: string): string {
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1] as number, perm[rank - 2] as number];
  return s.emitTemp('Transpose', [value], { perm: attr.ints(perm) }, suffix);
}

function matmulLike(s: OpScope): void {
  const g = s.operands(['a', 'b', '_add_to_output']);
  const a = s.required(g, 'a');
  const b = s.required(g, 'b');
  const add = s.optional(g, '_add_to_output');
  const ta = s.attrs.bool('transpose_a', false);
  const tb = s.attrs.bool('transpose_b', false);
  const alpha = s.attrs.float('alpha', 1);
  const out = s.result(0);
  const ra = s.rank(a);
  const rb = s.rank(b);
  const y = add === undefined ? out : s.temp('matmul');
  if (ra === 2 && rb === 2) {
    const attrs: Record<string, Attr> = {};
    if (ta) attrs.transA = attr.int(1);
    if (tb) attrs.transB = attr.int(1);
    if (alpha !== 1) attrs.alpha = attr.float(alpha);
    s.emit('Gemm', [s.value(a), s.value(b)], [y], attrs);
  } else {
    if (ra < 2 || rb < 2) s.unsupported('matmul of a rank-1 operand');
    const av = ta ? transposeLast2(s, s.value(a), ra, 'transpose_a') : s.value(a);
    const bv = tb ? transposeLast2(s, s.value(b), rb, 'transpose_b') : s.value(b);
    if (alpha === 1) s.emit('MatMul', [av, bv], [y]);
    else {
      const p = s.emitTemp('MatMul', [av, bv], {}, 'matmul');
      s.emit('Mul', [p, s.constScalar('alpha', alpha, dtypeOf(s, a))], [y], {}, 'alpha');
    }
  }
  addToOutput(s, y, add, out);
}

const fusedMatmulBias: Converter = (s) => {
  const g = s.operands(['x', 'weight', 'bias', '_add_to_output']);
  const x = s.required(g, 'x');
  const w = s.required(g, 'weight');
  const b = s.required(g, 'bias');
  const add = s.optional(g, '_add_to_output');
  const alpha = s.attrs.float('alpha', 1);
  const out = s.result(0);
  const y = add === undefined ? out : s.temp('linear');
  // OneFlow: y = alpha · x·weightᵀ + bias (+ beta · _add_to_output); weight is [n, k].
  if (s.rank(x) === 2) {
    const attrs: Record<string, Attr> = { transB: attr.int(1) };
    if (alpha !== 1) attrs.alpha = attr.float(alpha);
    s.emit('Gemm', [s.value(x), s.value(w), s.value(b)], [y], attrs);
  } else {
    const wt = s.emitTemp('Transpose', [s.value(w)], { perm: attr.ints([1, 0]) }, 'weight_t');
    let p = s.emitTemp('MatMul', [s.value(x), wt], {}, 'matmul');
    if (alpha !== 1) p = s.emitTemp('Mul', [p, s.constScalar('alpha', alpha, dtypeOf(s, x))], {}, 'alpha');
    s.emit('Add', [p, s.value(b)], [y], {}, 'bias');
  }
  addToOutput(s, y, add, out, s.attrs.float('beta', 1));
};

// ── shape ────────────────────────────────────────────────────────────────────────────────────────────
const flatten: Converter = (s) => {
  const x = s.arg(0);
  const shape = s.tensorType(x).shape as readonly number[];
  const rank = shape.length;
  let start = s.attrs.int('start_dim', 0);
  let end = s.attrs.int('end_dim', -1);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  if (rank === 0 || start >= end) return s.emit('Identity', [s.value(x)], [s.result(0)]);
  if (start === 1 && end === rank - 1) return s.emit('Flatten', [s.value(x)], [s.result(0)], { axis: attr.int(1) });
  // Leading axes are copied (0), the flattened run is inferred (-1), trailing axes keep their size.
  const target = [...new Array<number>(start).fill(0), -1, ...shape.slice(end + 1)];
  const c = s.constInt64('shape', target);
  s.emit('Reshape', [s.value(x), c], [s.result(0)]);
};

const reshape: Converter = (s) => {
  const x = s.arg(0);
  const target = s.attrs.ints('shape');
  const inShape = s.tensorType(x).shape as readonly number[];
  // The traced batch size is baked into the shape attribute; when the leading size carries over
  // from a computed input, copy it (ONNX 0) so the graph serves any batch.
  if (!s.isConstant(x) && target.length > 0 && inShape.length > 0 && target[0] === inShape[0]) target[0] = 0;
  const c = s.constInt64('shape', target);
  s.emit('Reshape', [s.value(x), c], [s.result(0)]);
};

const transpose: Converter = (s) => {
  const perm = s.attrs.ints('perm');
  s.emit('Transpose', [s.value(s.arg(0))], [s.result(0)], { perm: attr.ints(perm) });
};

const softmax: Converter = (s) => {
  // OneFlow's softmax op normalizes the last axis.
  s.emit('Softmax', [s.value(s.arg(0))], [s.result(0)], { axis: attr.int(-1) });
};

export const CONVERTERS: Readonly<Record<string, Converter>> = {
  conv2d,
  normalization,
  normalization_infer: normalization,
  relu: simple('Relu'),
  max_pool_2d: maxPool2d,
  maxpool_2d: maxPool2d,
  avg_pool_2d: avgPool2d,
  avgpool_2d: avgPool2d,
  adaptive_avg_pool2d: adaptiveAvgPool2d,
  add_n2: addN,
  add_n: addN,
  broadcast_add: simple('Add'),
  broadcast_mul: simple('Mul'),
  bias_add: biasAdd,
  matmul: matmulLike,
  broadcast_matmul: matmulLike,
  fused_matmul_bias: fusedMatmulBias,
  flatten,
  reshape,
  transpose,
  softmax,
  identity: simple('Identity'),
};
