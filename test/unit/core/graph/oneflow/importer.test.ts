import { describe, expect, it } from 'vitest';
import { isOfsError } from '../../../../../src/errors.js';
import type { Graph, Initializer, Node } from '../../../../../src/core/graph/ir.js';
import { firstJob, importOneflowJob } from '../../../../../src/core/graph/oneflow/importer.js';
import { parseMlir } from '../../../../../src/core/graph/oneflow/mlir-parser.js';
import { evaluate } from '../../../../fixtures/reference-eval.js';

// ── a small MLIR writer for test snippets (2021 printing style, as OneFlow printed it) ─────────────────
const T = (shape: number[], elem = 'f32'): string => `tensor<${[...shape, elem].join('x')}>`;
const P = 'device_name = ["@0:0"], device_tag = "cpu", hierarchy = [1], scope_symbol_id = 4611686018427469823 : i64';
const sh = (shape: number[]): string => `[${shape.map((d) => `${d} : si64`).join(', ')}]`;

interface Snippet {
  inputs: number[][];
  vars?: Record<string, { shape: number[]; values: number[] }>;
  /** Body lines; `%in0`… are the inputs, `%v_<name>` the variables. */
  body: string[];
  /** SSA names returned, with shapes. */
  outputs: { ssa: string; shape: number[] }[];
}

function mlirOf(s: Snippet): string {
  const lines: string[] = [];
  s.inputs.forEach((shape, i) => {
    lines.push(`    %in${i} = "oneflow.input"(%arg${i}) {${P}, data_type = 2 : i32, is_dynamic = false, nd_sbp = ["B"], op_name = "_G-input_${i}", shape = ${sh(shape)}} : (${T(shape)}) -> ${T(shape)}`);
  });
  for (const [name, v] of Object.entries(s.vars ?? {})) {
    lines.push(`    %v_${name.replace(/\W/g, '_')} = "oneflow.variable"() {${P}, data_type = 2 : i32, nd_sbp = ["B"], op_name = "${name}", shape = ${sh(v.shape)}} : () -> ${T(v.shape)}`);
  }
  lines.push(...s.body.map((l) => `    ${l}`));
  s.outputs.forEach((o, i) => {
    lines.push(`    %out${i} = "oneflow.output"(${o.ssa}) {${P}, data_type = 2 : i32, is_dynamic = false, nd_sbp = ["B"], op_name = "_G-output_${i}", shape = ${sh(o.shape)}} : (${T(o.shape)}) -> ${T(o.shape)}`);
  });
  const args = s.inputs.map((shape, i) => `%arg${i}: ${T(shape)}`).join(', ');
  const rets = s.outputs.map((o) => T(o.shape));
  return [
    'module {',
    `  oneflow.job @G(${args}) -> (${rets.join(', ')}) {`,
    ...lines,
    `    oneflow.return ${s.outputs.map((_, i) => `%out${i}`).join(', ')} : ${rets.join(', ')}`,
    '  }',
    '}',
    '',
  ].join('\n');
}

function fp32Init(name: string, shape: number[], values: number[]): Initializer {
  return { name, dtype: 'FP32', shape, data: new Uint8Array(Float32Array.from(values).buffer) };
}

function importSnippet(s: Snippet): { graph: Graph; warnings: string[] } {
  const text = mlirOf(s);
  const job = firstJob(parseMlir(text, 'model.mlir'), 'model.mlir');
  const variables = new Map(Object.entries(s.vars ?? {}).map(([n, v]) => [n, fp32Init(n, v.shape, v.values)]));
  return importOneflowJob(job, { file: 'model.mlir', variables });
}

function run(graph: Graph, inputs: { shape: number[]; values: number[] }[]): Float32Array[] {
  const feeds = Object.fromEntries(inputs.map((x, i) => [`INPUT_${i}`, { shape: x.shape, data: Float32Array.from(x.values) }]));
  const out = evaluate(graph, feeds);
  return graph.outputs.map((o) => out[o.name]?.data as Float32Array);
}

const ops = (g: Graph): string[] => g.nodes.map((n) => n.op);
const node = (g: Graph, op: string): Node => {
  const n = g.nodes.find((x) => x.op === op);
  if (!n) throw new Error(`no ${op} node`);
  return n;
};

function importError(s: Snippet): { code: string; message: string } {
  try {
    importSnippet(s);
  } catch (e) {
    if (isOfsError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('imported without error');
}

// ── tests ──────────────────────────────────────────────────────────────────────────────────────────────
describe('importOneflowJob: IO', () => {
  it('names inputs INPUT_<i> and outputs OUTPUT_<i> with a dynamic batch dimension', () => {
    const { graph } = importSnippet({
      inputs: [[1, 3], [1, 3]],
      body: ['%0 = "oneflow.broadcast_add"(%in0, %in1) {op_name = "add"} : (tensor<1x3xf32>, tensor<1x3xf32>) -> tensor<1x3xf32>'],
      outputs: [{ ssa: '%0', shape: [1, 3] }],
    });
    expect(graph.inputs).toEqual([
      { name: 'INPUT_0', dtype: 'FP32', shape: [-1, 3] },
      { name: 'INPUT_1', dtype: 'FP32', shape: [-1, 3] },
    ]);
    expect(graph.outputs).toEqual([{ name: 'OUTPUT_0', dtype: 'FP32', shape: [-1, 3] }]);
    expect(graph.nodes).toEqual([expect.objectContaining({ op: 'Add', inputs: ['INPUT_0', 'INPUT_1'], outputs: ['OUTPUT_0'] })]);
    expect(graph.opset).toBe(17);
  });

  it('orders inputs by job argument, whatever order the input ops are printed in', () => {
    const text = [
      'module {',
      '  oneflow.job @G(%arg0: tensor<1x2xf32>, %arg1: tensor<1x5xf32>) -> tensor<1x5xf32> {',
      `    %b = "oneflow.input"(%arg1) {${P}, op_name = "in1"} : (tensor<1x5xf32>) -> tensor<1x5xf32>`,
      `    %a = "oneflow.input"(%arg0) {${P}, op_name = "in0"} : (tensor<1x2xf32>) -> tensor<1x2xf32>`,
      `    %o = "oneflow.output"(%b) {${P}, op_name = "out0"} : (tensor<1x5xf32>) -> tensor<1x5xf32>`,
      '    oneflow.return %o : tensor<1x5xf32>',
      '  }',
      '}',
    ].join('\n');
    const { graph } = importOneflowJob(firstJob(parseMlir(text), 'm'), { file: 'm', variables: new Map() });
    expect(graph.inputs.map((i) => i.shape)).toEqual([[-1, 2], [-1, 5]]);
    // An output that is an input unchanged still needs a node to produce it.
    expect(graph.nodes).toEqual([expect.objectContaining({ op: 'Identity', inputs: ['INPUT_1'], outputs: ['OUTPUT_0'] })]);
  });

  it('gives a value returned twice one direct output and one Identity', () => {
    const { graph } = importSnippet({
      inputs: [[1, 2]],
      body: ['%0 = "oneflow.relu"(%in0) {op_name = "r"} : (tensor<1x2xf32>) -> tensor<1x2xf32>'],
      outputs: [{ ssa: '%0', shape: [1, 2] }, { ssa: '%0', shape: [1, 2] }],
    });
    expect(graph.nodes.map((n) => `${n.op}:${n.inputs.join(',')}->${n.outputs.join(',')}`)).toEqual([
      'Relu:INPUT_0->OUTPUT_0',
      'Identity:OUTPUT_0->OUTPUT_1',
    ]);
  });
});

describe('importOneflowJob: convolution', () => {
  it('reads the bias operand through operand_segment_sizes and makes symmetric ONNX pads', () => {
    const { graph } = importSnippet({
      inputs: [[1, 1, 3, 3]],
      vars: { 'm.w': { shape: [1, 1, 1, 1], values: [2] }, 'm.b': { shape: [1], values: [0.5] } },
      body: [
        `%0 = "oneflow.conv2d"(%in0, %v_m_w, %v_m_b) {${P}, data_format = "channels_first", dilation_rate = [1 : si32, 1 : si32], filters = 1 : si32, groups = 1 : si32, kernel_size = [1 : si32, 1 : si32], op_name = "m.conv", operand_segment_sizes = dense<[1, 1, 1, 0]> : vector<4xi32>, padding_before = [0 : si32, 0 : si32], strides = [1 : si32, 1 : si32]} : (tensor<1x1x3x3xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>) -> tensor<1x1x3x3xf32>`,
      ],
      outputs: [{ ssa: '%0', shape: [1, 1, 3, 3] }],
    });
    const conv = node(graph, 'Conv');
    expect(conv.inputs).toEqual(['INPUT_0', 'm.w', 'm.b']);
    expect(conv.attrs).toMatchObject({ kernel_shape: { value: [1, 1] }, pads: { value: [0, 0, 0, 0] }, group: { value: 1 } });
    const [y] = run(graph, [{ shape: [1, 1, 3, 3], values: [0, 1, 2, 3, 4, 5, 6, 7, 8] }]);
    expect([...(y as Float32Array)]).toEqual([0.5, 2.5, 4.5, 6.5, 8.5, 10.5, 12.5, 14.5, 16.5]);
  });

  it('maps kernel, strides, padding_before, dilation and groups (array<i32> segment sizes, no bias)', () => {
    const { graph } = importSnippet({
      inputs: [[1, 4, 8, 8]],
      vars: { w: { shape: [4, 2, 3, 3], values: new Array(72).fill(1) } },
      body: [
        `%0 = "oneflow.conv2d"(%in0, %v_w) {${P}, data_format = "channels_first", dilation_rate = [2 : si32, 1 : si32], filters = 4 : si32, groups = 2 : si32, kernel_size = [3 : si32, 3 : si32], op_name = "c", operand_segment_sizes = array<i32: 1, 1, 0, 0>, padding_before = [2 : si32, 1 : si32], strides = [2 : si32, 1 : si32]} : (tensor<1x4x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x4x8xf32>`,
      ],
      outputs: [{ ssa: '%0', shape: [1, 4, 4, 8] }],
    });
    const conv = node(graph, 'Conv');
    expect(conv.inputs).toEqual(['INPUT_0', 'w']);
    expect(conv.attrs).toEqual({
      kernel_shape: { kind: 'ints', value: [3, 3] },
      strides: { kind: 'ints', value: [2, 1] },
      pads: { kind: 'ints', value: [2, 1, 2, 1] },
      dilations: { kind: 'ints', value: [2, 1] },
      group: { kind: 'int', value: 2 },
    });
  });

  it('wraps a channels_last conv in transposes of input, filter and output', () => {
    const { graph } = importSnippet({
      inputs: [[1, 5, 5, 3]],
      vars: { w: { shape: [2, 3, 3, 3], values: new Array(54).fill(0) } },
      body: [
        `%0 = "oneflow.conv2d"(%in0, %v_w) {${P}, data_format = "channels_last", dilation_rate = [1 : si32, 1 : si32], filters = 2 : si32, groups = 1 : si32, kernel_size = [3 : si32, 3 : si32], op_name = "c", operand_segment_sizes = dense<[1, 1, 0, 0]> : vector<4xi32>, padding_before = [1 : si32, 1 : si32], strides = [1 : si32, 1 : si32]} : (tensor<1x5x5x3xf32>, tensor<2x3x3x3xf32>) -> tensor<1x5x5x2xf32>`,
      ],
      outputs: [{ ssa: '%0', shape: [1, 5, 5, 2] }],
    });
    expect(ops(graph)).toEqual(['Transpose', 'Transpose', 'Conv', 'Transpose']);
    const [wT, xT, conv, back] = graph.nodes as Node[];
    expect(wT?.inputs).toEqual(['w']);
    expect(wT?.attrs.perm).toEqual({ kind: 'ints', value: [0, 3, 1, 2] });
    expect(xT?.inputs).toEqual(['INPUT_0']);
    expect(conv?.inputs).toEqual([xT?.outputs[0], wT?.outputs[0]]);
    expect(back?.attrs.perm).toEqual({ kind: 'ints', value: [0, 2, 3, 1] });
    expect(back?.outputs).toEqual(['OUTPUT_0']);
  });
});

describe('importOneflowJob: normalization', () => {
  // Operands in OneFlow's order: x, moving_mean, moving_variance, gamma, beta.
  const bn = (opName: string, extra: string, results = '%y, %mean, %inv_variance', resultTypes = '(tensor<1x2x1x1xf32>, tensor<2xf32>, tensor<2xf32>)') =>
    `${results} = "oneflow.${opName}"(%in0, %v_rm, %v_rv, %v_g, %v_b) {${P}, axis = 1 : si32, epsilon = 1.000000e+00 : f32, momentum = 0.899999976 : f32, op_name = "bn", operand_segment_sizes = dense<[1, 1, 1, 1, 1, 0]> : vector<6xi32>${extra}} : (tensor<1x2x1x1xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> ${resultTypes}`;
  const vars = {
    rm: { shape: [2], values: [0.5, 1] },
    rv: { shape: [2], values: [3, 8] },
    g: { shape: [2], values: [2, 3] },
    b: { shape: [2], values: [10, 20] },
  };
  // y = (x − mean) / sqrt(var + eps) · gamma + beta, with eps = 1: channel 0 → (1−0.5)/2·2+10, channel 1 → (2−1)/3·3+20.
  const expected = [10.5, 21];

  it('serves a training-mode normalization with its moving statistics, and warns', () => {
    const { graph, warnings } = importSnippet({
      inputs: [[1, 2, 1, 1]],
      vars,
      body: [bn('normalization', ', result_segment_sizes = dense<1> : vector<3xi32>, training = true')],
      outputs: [{ ssa: '%y', shape: [1, 2, 1, 1] }],
    });
    const n = node(graph, 'BatchNormalization');
    expect(n.inputs).toEqual(['INPUT_0', 'g', 'b', 'rm', 'rv']);
    expect(n.attrs.epsilon).toEqual({ kind: 'float', value: 1 });
    expect([...(run(graph, [{ shape: [1, 2, 1, 1], values: [1, 2] }])[0] as Float32Array)]).toEqual(expected);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/1 normalization op was saved in training mode.*'bn'.*moving statistics/);
  });

  it('reads eval-mode normalization (one result) and normalization_infer without warnings', () => {
    for (const [op, extra, results, types] of [
      ['normalization', ', result_segment_sizes = array<i32: 1, 0, 0>, training = false', '%y', 'tensor<1x2x1x1xf32>'],
      ['normalization_infer', ', training = false', '%y', 'tensor<1x2x1x1xf32>'],
    ] as const) {
      const { graph, warnings } = importSnippet({ inputs: [[1, 2, 1, 1]], vars, body: [bn(op, extra, results, types)], outputs: [{ ssa: '%y', shape: [1, 2, 1, 1] }] });
      expect(warnings).toEqual([]);
      expect([...(run(graph, [{ shape: [1, 2, 1, 1], values: [1, 2] }])[0] as Float32Array)]).toEqual(expected);
    }
  });

  it('refuses to serve a batch statistic result', () => {
    const e = importError({
      inputs: [[1, 2, 1, 1]],
      vars,
      body: [
        bn('normalization', ', result_segment_sizes = dense<1> : vector<3xi32>, training = true'),
        '%1 = "oneflow.identity"(%mean) {op_name = "leak"} : (tensor<2xf32>) -> tensor<2xf32>',
      ],
      outputs: [{ ssa: '%1', shape: [2] }],
    });
    expect(e.code).toBe('OFS_UNSUPPORTED_OP');
    expect(e.message).toMatch(/oneflow\.identity.*reads %mean.*training.*op_name 'leak'/);
  });
  it('refuses to return a batch statistic as a graph output', () => {
    const e = importError({
      inputs: [[1, 2, 1, 1]],
      vars,
      body: [bn('normalization', ', result_segment_sizes = dense<1> : vector<3xi32>, training = true')],
      outputs: [{ ssa: '%inv_variance', shape: [2] }],
    });
    expect(e.code).toBe('OFS_UNSUPPORTED_OP');
    expect(e.message).toMatch(/returns %inv_variance, a batch statistic/);
  });
});

describe('importOneflowJob: pooling', () => {
  const x = { shape: [1, 1, 2, 2], values: [1, 5, 3, 2] };

  it.each(['max_pool_2d', 'maxpool_2d'])('%s → MaxPool (stride, padding, ceil_mode; indices unused)', (name) => {
    const pool = (ceil: boolean) => ({
      inputs: [[1, 1, 2, 2]],
      body: [
        `%y, %indice = "oneflow.${name}"(%in0) {${P}, ceil_mode = ${ceil}, data_format = "channels_first", dilation = [1 : si32, 1 : si32], kernel_size = [2 : si32, 2 : si32], op_name = "mp", padding = [0 : si32, 0 : si32], return_indices = false, stride = [2 : si32, 2 : si32]} : (tensor<1x1x2x2xf32>) -> (tensor<1x1x1x1xf32>, tensor<1x1x1x1xi64>)`,
      ],
      outputs: [{ ssa: '%y', shape: [1, 1, 1, 1] }],
    });
    const { graph } = importSnippet(pool(false));
    expect(node(graph, 'MaxPool').attrs).toEqual({
      kernel_shape: { kind: 'ints', value: [2, 2] },
      strides: { kind: 'ints', value: [2, 2] },
      pads: { kind: 'ints', value: [0, 0, 0, 0] },
      ceil_mode: { kind: 'int', value: 0 },
    });
    expect([...(run(graph, [x])[0] as Float32Array)]).toEqual([5]);
    expect(node(importSnippet(pool(true)).graph, 'MaxPool').attrs.ceil_mode).toEqual({ kind: 'int', value: 1 });
  });

  it.each(['avg_pool_2d', 'avgpool_2d'])('%s → AveragePool with count_include_pad', (name) => {
    const { graph } = importSnippet({
      inputs: [[1, 1, 2, 2]],
      body: [
        `%0 = "oneflow.${name}"(%in0) {${P}, ceil_mode = false, count_include_pad = true, data_format = "channels_first", divisor_override = 0 : si32, kernel_size = [2 : si32, 2 : si32], op_name = "ap", padding = [1 : si32, 1 : si32], stride = [2 : si32, 2 : si32]} : (tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>`,
      ],
      outputs: [{ ssa: '%0', shape: [1, 1, 2, 2] }],
    });
    expect(node(graph, 'AveragePool').attrs).toMatchObject({ pads: { value: [1, 1, 1, 1] }, count_include_pad: { value: 1 }, ceil_mode: { value: 0 } });
    // Each 2x2 window holds one real value and three pads, all counted: value / 4.
    expect([...(run(graph, [x])[0] as Float32Array)]).toEqual([0.25, 1.25, 0.75, 0.5]);
  });

  it('adaptive_avg_pool2d with output_size 1 → GlobalAveragePool; other sizes are unsupported', () => {
    const pool = (size: string, out: number[]) => ({
      inputs: [[1, 1, 2, 2]],
      body: [`%0 = "oneflow.adaptive_avg_pool2d"(%in0) {${P}, data_format = "channels_first", op_name = "gap", output_size = [${size}]} : (tensor<1x1x2x2xf32>) -> ${T(out)}`],
      outputs: [{ ssa: '%0', shape: out }],
    });
    const { graph } = importSnippet(pool('1 : si64, 1 : si64', [1, 1, 1, 1]));
    expect(ops(graph)).toEqual(['GlobalAveragePool']);
    expect([...(run(graph, [x])[0] as Float32Array)]).toEqual([2.75]);
    const e = importError(pool('2 : si64, 2 : si64', [1, 1, 2, 2]));
    expect(e.code).toBe('OFS_UNSUPPORTED_OP');
    expect(e.message).toMatch(/adaptive_avg_pool2d \(output_size \[2, 2\].*op_name 'gap'/);
  });
});

describe('importOneflowJob: elementwise and matrix ops', () => {
  it('add_n2 → Add, add_n of three → Sum, broadcast_add → Add', () => {
    const { graph } = importSnippet({
      inputs: [[1, 2], [1, 2], [2]],
      body: [
        '%0 = "oneflow.add_n2"(%in0, %in1) {op_name = "a", op_type_name = "add_n"} : (tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<1x2xf32>',
        '%1 = "oneflow.add_n"(%0, %in0, %in1) {op_name = "s"} : (tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<1x2xf32>',
        '%2 = "oneflow.broadcast_add"(%1, %in2) {op_name = "b"} : (tensor<1x2xf32>, tensor<2xf32>) -> tensor<1x2xf32>',
      ],
      outputs: [{ ssa: '%2', shape: [1, 2] }],
    });
    expect(ops(graph)).toEqual(['Add', 'Sum', 'Add']);
    expect(node(graph, 'Sum').inputs).toHaveLength(3);
  });

  it('bias_add along axis 1 of a 4-D tensor reshapes the bias to [C, 1, 1]', () => {
    const { graph } = importSnippet({
      inputs: [[1, 2, 1, 2]],
      vars: { b: { shape: [2], values: [1, 2] } },
      body: ['%0 = "oneflow.bias_add"(%in0, %v_b) {axis = 1 : si32, op_name = "ba"} : (tensor<1x2x1x2xf32>, tensor<2xf32>) -> tensor<1x2x1x2xf32>'],
      outputs: [{ ssa: '%0', shape: [1, 2, 1, 2] }],
    });
    expect(ops(graph)).toEqual(['Reshape', 'Add']);
    expect([...(run(graph, [{ shape: [1, 2, 1, 2], values: [0, 0, 0, 0] }])[0] as Float32Array)]).toEqual([1, 1, 2, 2]);
  });

  it('2-D matmul with transpose_b and alpha → Gemm(transB, alpha)', () => {
    const { graph } = importSnippet({
      inputs: [[1, 2]],
      vars: { w: { shape: [3, 2], values: [1, 0, 0, 1, 1, 1] } },
      body: ['%0 = "oneflow.matmul"(%in0, %v_w) {alpha = 2.000000e+00 : f64, op_name = "mm", transpose_a = false, transpose_b = true} : (tensor<1x2xf32>, tensor<3x2xf32>) -> tensor<1x3xf32>'],
      outputs: [{ ssa: '%0', shape: [1, 3] }],
    });
    expect(node(graph, 'Gemm').attrs).toEqual({ transB: { kind: 'int', value: 1 }, alpha: { kind: 'float', value: 2 } });
    // x·wᵀ = [x0, x1, x0+x1], times 2.
    expect([...(run(graph, [{ shape: [1, 2], values: [3, 4] }])[0] as Float32Array)]).toEqual([6, 8, 14]);
  });

  it('broadcast_matmul of a 3-D by a 2-D operand → MatMul', () => {
    const { graph } = importSnippet({
      inputs: [[2, 1, 2]],
      vars: { w: { shape: [2, 1], values: [1, 10] } },
      body: ['%0 = "oneflow.broadcast_matmul"(%in0, %v_w) {alpha = 1.000000e+00 : f64, op_name = "bm", transpose_a = false, transpose_b = false} : (tensor<2x1x2xf32>, tensor<2x1xf32>) -> tensor<2x1x1xf32>'],
      outputs: [{ ssa: '%0', shape: [2, 1, 1] }],
    });
    expect(ops(graph)).toEqual(['MatMul']);
    expect([...(run(graph, [{ shape: [2, 1, 2], values: [1, 2, 3, 4] }])[0] as Float32Array)]).toEqual([21, 43]);
  });

  it('fused_matmul_bias → Gemm(x, weight, bias, transB = 1)', () => {
    const { graph } = importSnippet({
      inputs: [[1, 2]],
      vars: { w: { shape: [2, 2], values: [1, 2, 3, 4] }, b: { shape: [2], values: [0.5, -0.5] } },
      body: ['%0 = "oneflow.fused_matmul_bias"(%in0, %v_w, %v_b) {alpha = 1.000000e+00 : f64, beta = 1.000000e+00 : f64, op_name = "fc"} : (tensor<1x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<1x2xf32>'],
      outputs: [{ ssa: '%0', shape: [1, 2] }],
    });
    expect(node(graph, 'Gemm').inputs).toEqual(['INPUT_0', 'w', 'b']);
    // [1, 1]·wᵀ + b = [1+2, 3+4] + b.
    expect([...(run(graph, [{ shape: [1, 2], values: [1, 1] }])[0] as Float32Array)]).toEqual([3.5, 6.5]);
  });

  it('matmul + broadcast_add of a 1-D variable fold into one Gemm (nn.Linear)', () => {
    const { graph } = importSnippet({
      inputs: [[1, 2]],
      vars: { w: { shape: [2, 2], values: [1, 0, 0, 1] }, b: { shape: [2], values: [1, 2] } },
      body: [
        '%0 = "oneflow.matmul"(%in0, %v_w) {alpha = 1.000000e+00 : f64, op_name = "fc-matmul", transpose_a = false, transpose_b = true} : (tensor<1x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>',
        '%1 = "oneflow.broadcast_add"(%0, %v_b) {op_name = "fc-add"} : (tensor<1x2xf32>, tensor<2xf32>) -> tensor<1x2xf32>',
      ],
      outputs: [{ ssa: '%1', shape: [1, 2] }],
    });
    expect(graph.nodes).toEqual([expect.objectContaining({ op: 'Gemm', inputs: ['INPUT_0', 'w', 'b'], outputs: ['OUTPUT_0'] })]);
  });
});

describe('importOneflowJob: shape ops and the rest', () => {
  it('flatten(start_dim 1) → Flatten; reshape keeps the batch dynamic', () => {
    const { graph } = importSnippet({
      inputs: [[1, 2, 1, 2]],
      body: [
        '%0 = "oneflow.flatten"(%in0) {end_dim = -1 : si32, op_name = "f", start_dim = 1 : si32} : (tensor<1x2x1x2xf32>) -> tensor<1x4xf32>',
        '%1 = "oneflow.reshape"(%in0) {op_name = "r", shape = [1 : si64, 4 : si64]} : (tensor<1x2x1x2xf32>) -> tensor<1x4xf32>',
      ],
      outputs: [{ ssa: '%0', shape: [1, 4] }, { ssa: '%1', shape: [1, 4] }],
    });
    expect(ops(graph)).toEqual(['Flatten', 'Reshape']);
    const shapeInit = graph.initializers.find((i) => i.name === node(graph, 'Reshape').inputs[1]);
    expect(shapeInit?.dtype).toBe('INT64');
    expect([...new BigInt64Array(new Uint8Array(shapeInit?.data ?? []).buffer)]).toEqual([0n, 4n]);
    // A batch of 2 flows through both.
    const values = [1, 2, 3, 4, 5, 6, 7, 8];
    const [a, b] = run(graph, [{ shape: [2, 2, 1, 2], values }]);
    expect([...(a as Float32Array)]).toEqual(values);
    expect([...(b as Float32Array)]).toEqual(values);
  });

  it('softmax → Softmax(axis -1), identity → Identity, relu → Relu', () => {
    const { graph } = importSnippet({
      inputs: [[1, 2]],
      body: [
        '%0 = "oneflow.relu"(%in0) {op_name = "r"} : (tensor<1x2xf32>) -> tensor<1x2xf32>',
        '%1 = "oneflow.identity"(%0) {op_name = "i"} : (tensor<1x2xf32>) -> tensor<1x2xf32>',
        '%2 = "oneflow.softmax"(%1) {op_name = "s"} : (tensor<1x2xf32>) -> tensor<1x2xf32>',
      ],
      outputs: [{ ssa: '%2', shape: [1, 2] }],
    });
    expect(ops(graph)).toEqual(['Relu', 'Identity', 'Softmax']);
    expect(node(graph, 'Softmax').attrs.axis).toEqual({ kind: 'int', value: -1 });
    const [y] = run(graph, [{ shape: [1, 2], values: [-5, Math.log(3)] }]);
    // relu → [0, ln 3]; softmax → [1/4, 3/4].
    expect((y as Float32Array)[0]).toBeCloseTo(0.25, 6);
    expect((y as Float32Array)[1]).toBeCloseTo(0.75, 6);
  });

  it('reads the generic "oneflow.user" form by op_type_name, ignoring control operands', () => {
    const { graph } = importSnippet({
      inputs: [[1, 2], [1, 2]],
      body: [
        '%0 = "oneflow.user"(%in0, %in1) {input_sizes = [1 : i32], op_name = "u", op_type_name = "relu", operand_segment_sizes = dense<[1, 1]> : vector<2xi32>, output_lbns = ["u/y_0"], output_sizes = [1 : i32], result_segment_sizes = dense<[1, 0]> : vector<2xi32>} : (tensor<1x2xf32>, tensor<1x2xf32>) -> tensor<1x2xf32>',
      ],
      outputs: [{ ssa: '%0', shape: [1, 2] }],
    });
    expect(graph.nodes).toEqual([expect.objectContaining({ op: 'Relu', inputs: ['INPUT_0'], outputs: ['OUTPUT_0'] })]);
  });

  it('names an unsupported op with its op_name and position', () => {
    const e = importError({
      inputs: [[1, 2]],
      body: ['%0 = "oneflow.gelu"(%in0) {op_name = "model.act-gelu-3"} : (tensor<1x2xf32>) -> tensor<1x2xf32>'],
      outputs: [{ ssa: '%0', shape: [1, 2] }],
    });
    expect(e.code).toBe('OFS_UNSUPPORTED_OP');
    // Line 4: after `module {`, the job line and one input op; the op name string starts at column 10.
    expect(e.message).toBe("unsupported operator 'oneflow.gelu' (op_name 'model.act-gelu-3') at model.mlir:4:10");
  });
});
