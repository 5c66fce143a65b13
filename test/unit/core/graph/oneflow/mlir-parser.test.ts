import { describe, expect, it } from 'vitest';
import { isOfsError } from '../../../../../src/errors.js';
import type { MlirAttr } from '../../../../../src/core/graph/oneflow/mlir-ast.js';
import { intList } from '../../../../../src/core/graph/oneflow/mlir-attrs.js';
import { parseMlir, parseMlirType } from '../../../../../src/core/graph/oneflow/mlir-parser.js';

const job = (body: string, header = 'module {'): string =>
  `${header}\n  oneflow.job @G(%arg0: tensor<1x3xf32>) -> tensor<1x3xf32> {\n${body}\n  }\n}\n`;

function firstOp(text: string) {
  const op = parseMlir(text).jobs[0]?.ops[0];
  if (!op) throw new Error('no op');
  return op;
}

function syntaxError(text: string): { message: string; code: string } {
  try {
    parseMlir(text, 'm/model.mlir');
  } catch (e) {
    if (isOfsError(e)) return { message: e.message, code: e.code };
    throw e;
  }
  throw new Error('parsed without error');
}

describe('parseMlir: module and job', () => {
  it.each([
    ['module {', 'modern header'],
    ['module  {', 'two spaces (2021 printer)'],
    ['module @m attributes {sym.x = 1 : i64} {', 'named module with attributes'],
  ])('accepts %j (%s)', (header) => {
    const m = parseMlir(job('    oneflow.return %arg0 : tensor<1x3xf32>', header));
    expect(m.jobs).toHaveLength(1);
    expect(m.jobs[0]?.name).toBe('G');
    expect(m.jobs[0]?.args[0]).toEqual({ name: '%arg0', type: { kind: 'tensor', shape: [1, 3], elem: 'f32' } });
    expect(m.jobs[0]?.returns).toEqual(['%arg0']);
  });

  it('accepts jobs without an enclosing module, comments, trailing loc() and alias lines', () => {
    const text = [
      '#loc0 = loc("x.py":1:2)',
      '// a comment',
      'oneflow.job @A(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>) {',
      '  %r = "oneflow.relu"(%x) {op_name = "r"} : (tensor<2xf32>) -> tensor<2xf32> loc(#loc0)',
      '  oneflow.return %r, %x : tensor<2xf32>, tensor<2xf32>',
      '}',
      'oneflow.job @B() -> () {',
      '  oneflow.return',
      '}',
    ].join('\n');
    const m = parseMlir(text);
    expect(m.jobs.map((j) => j.name)).toEqual(['A', 'B']);
    expect(m.jobs[0]?.resultTypes).toHaveLength(2);
    expect(m.jobs[0]?.returns).toEqual(['%r', '%x']);
    expect(m.jobs[1]?.returns).toEqual([]);
  });

  it('reads multi-line attribute dictionaries with a trailing comma (OneFlow IR tests style)', () => {
    const op = firstOp(job('    %res = "oneflow.relu"(%arg0)\n    {\n        op_name = "",\n        output_lbns = [""],\n    } : (tensor<1x3xf32>) -> tensor<1x3xf32>\n    oneflow.return %res : tensor<1x3xf32>'));
    expect(op.name).toBe('oneflow.relu');
    expect(op.attrs.get('op_name')).toEqual({ kind: 'string', value: '' });
  });
});

describe('parseMlir: SSA names', () => {
  it('reads named result lists, numbered results and %name#index operands', () => {
    const body = [
      '    %y_320, %indice = "oneflow.max_pool_2d"(%arg0) {} : (tensor<1x3xf32>) -> (tensor<1x3xf32>, tensor<1x3xi64>)',
      '    %0:2 = "oneflow.split"(%y_320) {} : (tensor<1x3xf32>) -> (tensor<1x3xf32>, tensor<1x3xf32>)',
      '    %output_3 = "oneflow.add_n2"(%0#1, %0#0) {} : (tensor<1x3xf32>, tensor<1x3xf32>) -> tensor<1x3xf32>',
      '    oneflow.return %output_3 : tensor<1x3xf32>',
    ].join('\n');
    const ops = parseMlir(job(body)).jobs[0]?.ops ?? [];
    expect(ops[0]?.results).toEqual(['%y_320', '%indice']);
    expect(ops[1]?.results).toEqual(['%0#0', '%0#1']);
    expect(ops[2]?.operands).toEqual(['%0#1', '%0#0']);
    expect(ops[2]?.results).toEqual(['%output_3']);
  });
});

describe('parseMlir: attributes', () => {
  const attrsOf = (dict: string): ReadonlyMap<string, MlirAttr> =>
    firstOp(job(`    %r = "oneflow.x"(%arg0) ${dict} : (tensor<1x3xf32>) -> tensor<1x3xf32>\n    oneflow.return %r : tensor<1x3xf32>`)).attrs;

  it('reads integers with every integer type, and negative values', () => {
    const a = attrsOf('{a = 1 : i32, b = 2 : si32, c = 3 : i64, d = 4 : si64, e = -1 : si32, f = 7}');
    expect([...a.values()].map((x) => (x.kind === 'int' ? [x.value, x.type] : x.kind))).toEqual([
      [1, 'i32'], [2, 'si32'], [3, 'i64'], [4, 'si64'], [-1, 'si32'], [7, undefined],
    ]);
  });

  it('reads floats in exponent forms and hex float bit patterns', () => {
    const a = attrsOf('{eps = 9.99999974E-6 : f32, alpha = 1.000000e+00 : f64, m = 0.899999976 : f32, neg = -2.5 : f32, h = 0x3F800000 : f32}');
    expect(a.get('eps')).toEqual({ kind: 'float', value: 9.99999974e-6, type: 'f32' });
    expect(a.get('alpha')).toMatchObject({ kind: 'float', value: 1 });
    expect(a.get('m')).toMatchObject({ value: 0.899999976 });
    expect(a.get('neg')).toMatchObject({ value: -2.5 });
    expect(a.get('h')).toMatchObject({ kind: 'float', value: 1 });
  });

  it('reads hex bit patterns of f16 and bf16 in their own width', () => {
    // IEEE half: 0x3C00 = 1, 0xC000 = -2, 0x3555 ≈ 0.33325, 0x0001 = 2^-24; bf16 0x3FC0 = f32 0x3FC00000 = 1.5.
    const a = attrsOf('{a = 0x3C00 : f16, b = 0xC000 : f16, c = 0x3555 : f16, d = 0x0001 : f16, e = 0x3FC0 : bf16}');
    expect(a.get('a')).toMatchObject({ kind: 'float', value: 1 });
    expect(a.get('b')).toMatchObject({ value: -2 });
    expect(a.get('c')).toMatchObject({ value: 1365 / 4096 });
    expect(a.get('d')).toMatchObject({ value: 2 ** -24 });
    expect(a.get('e')).toMatchObject({ value: 1.5 });
  });

  it('reads strings with escapes, booleans, unit attributes and nested arrays', () => {
    const a = attrsOf('{s = "a\\"b\\0A", t = true, f = false, u, arr = [[1 : si64], ["x"]]}');
    expect(a.get('s')).toEqual({ kind: 'string', value: 'a"b\n' });
    expect(a.get('t')).toEqual({ kind: 'bool', value: true });
    expect(a.get('f')).toEqual({ kind: 'bool', value: false });
    expect(a.get('u')).toEqual({ kind: 'unit' });
    expect(a.get('arr')?.kind).toBe('array');
  });

  it('reads all three printings of segment sizes to the same list', () => {
    const a = attrsOf(
      '{d = dense<[1, 1, 0, 0]> : vector<4xi32>, s = dense<1> : vector<3xi32>, r = array<i32: 1, 1, 0, 0>, e = array<i32>, l = [1 : i32, 0 : i32]}',
    );
    expect(intList(a.get('d') as MlirAttr)).toEqual([1, 1, 0, 0]);
    expect(intList(a.get('s') as MlirAttr)).toEqual([1, 1, 1]);
    expect(intList(a.get('r') as MlirAttr)).toEqual([1, 1, 0, 0]);
    expect(intList(a.get('e') as MlirAttr)).toEqual([]);
    expect(intList(a.get('l') as MlirAttr)).toEqual([1, 0]);
  });

  it('keeps dialect attributes such as #sbp.parallel whole, arrows included', () => {
    const a = attrsOf('{parallel = #sbp.parallel<[] -> [#sbp.B]>, nd_sbp = ["B"], after = 1 : i32}');
    expect(a.get('parallel')).toEqual({ kind: 'opaque', text: '#sbp.parallel<[] -> [#sbp.B]>' });
    expect(a.get('after')).toMatchObject({ kind: 'int', value: 1 });
  });

  it('merges <{properties}> with the attribute dictionary', () => {
    const a = attrsOf('<{training = false}> {op_name = "bn"}');
    expect(a.get('training')).toEqual({ kind: 'bool', value: false });
    expect(a.get('op_name')).toEqual({ kind: 'string', value: 'bn' });
  });
});

describe('parseMlirType', () => {
  it.each([
    ['tensor<1x3x224x224xf32>', [1, 3, 224, 224], 'f32'],
    ['tensor<i64>', [], 'i64'],
    ['tensor<?x1000xf32>', [-1, 1000], 'f32'],
    ['tensor<*xf16>', null, 'f16'],
    ['tensor<1x64x56x56xsi64>', [1, 64, 56, 56], 'si64'],
  ])('%s', (text, shape, elem) => {
    expect(parseMlirType(text)).toEqual({ kind: 'tensor', shape, elem });
  });
});

describe('parseMlir: syntax errors', () => {
  it('reports OFS_MLIR_SYNTAX with file, line and column', () => {
    const text = 'module {\n  oneflow.job @G(%arg0: tensor<1xf32>) -> tensor<1xf32> {\n    %r = "oneflow.relu"(%arg0) {op_name = } : (tensor<1xf32>) -> tensor<1xf32>\n  }\n}\n';
    const e = syntaxError(text);
    expect(e.code).toBe('OFS_MLIR_SYNTAX');
    // `}` right after `op_name = ` is at line 3, column 43.
    expect(e.message).toMatch(/^m\/model\.mlir:3:43: expected an attribute value/);
  });

  it('reports a job without oneflow.return at the job', () => {
    const e = syntaxError('module {\n  oneflow.job @G() -> () {\n  }\n}\n');
    expect(e.message).toMatch(/^m\/model\.mlir:2:3: job @G has no oneflow\.return/);
  });

  it('reports an operand/type count mismatch', () => {
    const e = syntaxError(job('    %r = "oneflow.relu"(%arg0, %arg0) {} : (tensor<1x3xf32>) -> tensor<1x3xf32>\n    oneflow.return %r : tensor<1x3xf32>'));
    expect(e.message).toMatch(/:3:10: "oneflow\.relu" has 2 operands but its type lists 1/);
  });

  it('reports an unterminated module and a truncated file', () => {
    expect(syntaxError('module {\n').message).toMatch(/expected '}' to close the module/);
    expect(syntaxError('module {\n  oneflow.job @G(%a: tensor<1xf32').message).toMatch(/unterminated '<'/);
  });
});
