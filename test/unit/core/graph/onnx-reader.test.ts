import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { isOfsError } from '../../../../src/errors.js';
import { readOnnxModel } from '../../../../src/core/graph/onnx-reader.js';

const { onnx } = onnxProto;
const A = onnx.AttributeProto.AttributeType;
const D = onnx.TensorProto.DataType;

function tensorInfo(name: string, elemType: number, dims: onnxProto.onnx.TensorShapeProto.IDimension[]) {
  return { name, type: { tensorType: { elemType, shape: { dim: dims } } } };
}

function encode(model: onnxProto.onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** A hand-written model exercising the typed data fields ONNX exporters use besides raw_data. */
function typedFieldsModel(): Uint8Array {
  return encode({
    irVersion: 3,
    opsetImport: [{ domain: 'ai.onnx.ml', version: 2 }, { domain: '', version: 13 }],
    graph: {
      name: 'g',
      // IR v3 style: the initializer is listed as an input too.
      input: [
        tensorInfo('x', D.FLOAT, [{ dimParam: 'N' }, { dimValue: 3 }, {}]),
        tensorInfo('w', D.FLOAT, [{ dimValue: 2 }, { dimValue: 2 }]),
      ],
      output: [tensorInfo('y', D.FLOAT, [{ dimParam: 'N' }, { dimValue: 4 }])],
      initializer: [
        { name: 'w', dataType: D.FLOAT, dims: [2, 2], floatData: [1.5, -2, 0.25, 3] },
        { name: 'shape', dataType: D.INT64, dims: [3], int64Data: [0, -1, { low: 1, high: 0x200000, unsigned: false } as unknown as number] },
        { name: 'i32', dataType: D.INT32, dims: [2], int32Data: [-7, 65536] },
        { name: 'i8', dataType: D.INT8, dims: [2], int32Data: [-1, 5] },
        { name: 'half', dataType: D.FLOAT16, dims: [1], int32Data: [0x3c00] },
        { name: 'dbl', dataType: D.DOUBLE, dims: [1], doubleData: [Math.PI] },
        { name: 'u32', dataType: D.UINT32, dims: [1], uint64Data: [4000000000] },
        { name: 'raw', dataType: D.UINT8, dims: [3], rawData: new Uint8Array([9, 8, 7]) },
      ],
      node: [
        {
          opType: 'Conv',
          name: 'c',
          input: ['x', 'w', ''],
          output: ['y'],
          attribute: [
            { name: 'group', type: A.INT, i: 2 },
            { name: 'alpha', type: A.FLOAT, f: 0.5 },
            { name: 'mode', type: A.STRING, s: new TextEncoder().encode('constant') },
            { name: 'pads', type: A.INTS, ints: [1, 0, 1, 0] },
            { name: 'scales', type: A.FLOATS, floats: [1, 2] },
            { name: 'names', type: A.STRINGS, strings: [new TextEncoder().encode('a'), new TextEncoder().encode('b')] },
            { name: 'value', type: A.TENSOR, t: { name: 'v', dataType: D.FLOAT, dims: [1], floatData: [4] } },
            // Pre-IR-v2 files leave the type unset.
            { name: 'legacy', ints: [3, 4] },
          ],
        },
        { opType: 'LabelEncoder', domain: 'ai.onnx.ml', name: 'ml', input: ['y'], output: ['z'] },
      ],
    },
  });
}

const le = {
  f32: (xs: number[]) => new Uint8Array(new Float32Array(xs).buffer),
  i64: (xs: bigint[]) => new Uint8Array(new BigInt64Array(xs).buffer),
  i32: (xs: number[]) => new Uint8Array(new Int32Array(xs).buffer),
};

describe('readOnnxModel', () => {
  const g = readOnnxModel(typedFieldsModel(), 'm.onnx');

  it('takes the default-domain opset and leaves initializers out of the inputs', () => {
    expect(g.opset).toBe(13);
    expect(g.name).toBe('g');
    expect(g.inputs).toEqual([{ name: 'x', dtype: 'FP32', shape: [-1, 3, -1] }]);
    expect(g.outputs).toEqual([{ name: 'y', dtype: 'FP32', shape: [-1, 4] }]);
  });

  it('converts every typed data field to little-endian bytes', () => {
    const byName = new Map(g.initializers.map((i) => [i.name, i]));
    expect(byName.get('w')).toEqual({ name: 'w', dtype: 'FP32', shape: [2, 2], data: le.f32([1.5, -2, 0.25, 3]) });
    // 2^53 + 1 is not a double: only an exact int64 path keeps it.
    expect(byName.get('shape')?.data).toEqual(le.i64([0n, -1n, 9007199254740993n]));
    expect(byName.get('i32')?.data).toEqual(le.i32([-7, 65536]));
    expect(byName.get('i8')?.data).toEqual(new Uint8Array([0xff, 5]));
    expect(byName.get('half')).toMatchObject({ dtype: 'FP16', data: new Uint8Array([0x00, 0x3c]) });
    expect(byName.get('dbl')?.data).toEqual(new Uint8Array(new Float64Array([Math.PI]).buffer));
    expect(byName.get('u32')?.data).toEqual(new Uint8Array(new Uint32Array([4000000000]).buffer));
    expect(byName.get('raw')).toMatchObject({ dtype: 'UINT8', data: new Uint8Array([9, 8, 7]) });
  });

  it('maps every attribute kind to the IR union', () => {
    const conv = g.nodes[0]!;
    expect(conv).toMatchObject({ op: 'Conv', name: 'c', inputs: ['x', 'w', ''], outputs: ['y'] });
    expect(conv.domain).toBeUndefined();
    expect(conv.attrs).toEqual({
      group: { kind: 'int', value: 2 },
      alpha: { kind: 'float', value: 0.5 },
      mode: { kind: 'string', value: 'constant' },
      pads: { kind: 'ints', value: [1, 0, 1, 0] },
      scales: { kind: 'floats', value: [1, 2] },
      names: { kind: 'strings', value: ['a', 'b'] },
      value: { kind: 'tensor', value: { name: 'v', dtype: 'FP32', shape: [1], data: le.f32([4]) } },
      legacy: { kind: 'ints', value: [3, 4] },
    });
    expect(g.nodes[1]).toMatchObject({ op: 'LabelEncoder', domain: 'ai.onnx.ml' });
  });

  const rejects = (bytes: Uint8Array, what: RegExp): void => {
    try {
      readOnnxModel(bytes, 'bad.onnx');
      expect.fail('expected an error');
    } catch (e) {
      expect(isOfsError(e) && e.code).toBe('OFS_MODEL_FORMAT');
      expect((e as Error).message).toMatch(/^cannot read model bad\.onnx: /);
      expect((e as Error).message).toMatch(what);
    }
  };

  it('rejects bytes that are not a ModelProto', () => {
    rejects(new TextEncoder().encode('this is a JPEG, honest'), /not an ONNX protobuf/);
    rejects(typedFieldsModel().subarray(0, 100), /not an ONNX protobuf/);
  });

  it('rejects a graph without inputs or outputs, or without a graph', () => {
    const base = { irVersion: 8, opsetImport: [{ domain: '', version: 17 }] };
    const x = tensorInfo('x', D.FLOAT, [{ dimValue: 1 }]);
    rejects(encode({ ...base, graph: { input: [], output: [x] } }), /no inputs/);
    rejects(encode({ ...base, graph: { input: [x], output: [] } }), /no outputs/);
    rejects(encode(base), /no graph/);
  });

  it('rejects what the IR cannot hold: subgraphs, external data, raw data of the wrong size', () => {
    const base = { irVersion: 8, opsetImport: [{ domain: '', version: 17 }] };
    const io = { input: [tensorInfo('x', D.FLOAT, [])], output: [tensorInfo('y', D.FLOAT, [])] };
    rejects(
      encode({ ...base, graph: { ...io, node: [{ opType: 'If', name: 'if', attribute: [{ name: 'then_branch', type: A.GRAPH, g: {} }] }] } }),
      /then_branch.*GRAPH/,
    );
    rejects(
      encode({ ...base, graph: { ...io, initializer: [{ name: 'w', dataType: D.FLOAT, dims: [1], dataLocation: 1, externalData: [{ key: 'location', value: 'w.bin' }] }] } }),
      /external file/,
    );
    rejects(encode({ ...base, graph: { ...io, initializer: [{ name: 'w', dataType: D.FLOAT, dims: [2], rawData: new Uint8Array(4) }] } }), /4 bytes.*expected 8/);
  });
});
