import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { buildColourClassifier } from '../../../../src/core/graph/builders/colour-classifier.js';
import { buildResNet50 } from '../../../../src/core/graph/builders/resnet50.js';
import type { Attr, Graph } from '../../../../src/core/graph/ir.js';
import { readOnnxModel } from '../../../../src/core/graph/onnx-reader.js';
import { writeOnnxModel } from '../../../../src/core/graph/onnx-writer.js';

const { onnx } = onnxProto;

/** ONNX float attributes are float32, so a float attribute comes back rounded to the nearest float32. */
function roundFloatAttrs(g: Graph): Graph {
  const round = (a: Attr): Attr =>
    a.kind === 'float' ? { kind: 'float', value: Math.fround(a.value) } : a.kind === 'floats' ? { kind: 'floats', value: a.value.map(Math.fround) } : a;
  return {
    ...g,
    nodes: g.nodes.map((n) => ({ ...n, attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, a]) => [k, round(a)])) })),
  };
}

const handGraph: Graph = {
  name: 'hand',
  opset: 17,
  inputs: [{ name: 'x', dtype: 'FP32', shape: [-1, 3, -1, 5] }],
  outputs: [
    { name: 'y', dtype: 'INT64', shape: [-1] },
    { name: 'z', dtype: 'FP16', shape: [2] },
  ],
  initializers: [
    { name: 'starts', dtype: 'INT64', shape: [1], data: new Uint8Array(new BigInt64Array([-3n]).buffer) },
    { name: 'h', dtype: 'FP16', shape: [2], data: new Uint8Array([0, 0x3c, 0, 0xc0]) },
    // BYTES initializers are held in Triton's length-prefixed serialization.
    { name: 's', dtype: 'BYTES', shape: [2], data: new Uint8Array([2, 0, 0, 0, 104, 105, 0, 0, 0, 0]) },
  ],
  nodes: [
    {
      op: 'Slice',
      name: 'slice',
      inputs: ['x', 'starts', '', ''],
      outputs: ['y'],
      attrs: {
        // INT64_MAX is the "to the end" sentinel; it must not wrap to INT64_MIN.
        ends: { kind: 'ints', value: [Number.MAX_SAFE_INTEGER, 2 ** 63] },
        mode: { kind: 'string', value: 'édge' },
        names: { kind: 'strings', value: ['a', ''] },
        scale: { kind: 'float', value: 0.5 },
        scales: { kind: 'floats', value: [0.25, -1] },
        axis: { kind: 'int', value: -2 },
        value: { kind: 'tensor', value: { name: 'v', dtype: 'FP32', shape: [], data: new Uint8Array(new Float32Array([7]).buffer) } },
      },
    },
    { op: 'Custom', domain: 'com.example', name: 'c', inputs: ['h'], outputs: ['z'], attrs: {} },
  ],
};

describe('writeOnnxModel', () => {
  it('writes an IR v8 ModelProto with the opset, producer, raw_data initializers and symbolic batch', () => {
    const m = onnx.ModelProto.decode(writeOnnxModel(handGraph));
    expect(Number(m.irVersion)).toBe(8);
    expect(m.producerName).toBe('ofserve');
    expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17], ['com.example', 1]]);
    const graph = m.graph as onnxProto.onnx.GraphProto;
    const dims = graph.input[0]!.type!.tensorType!.shape!.dim!;
    expect(dims.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue)))).toEqual(['batch', 3, 'dim_2', 5]);
    const starts = graph.initializer[0]!;
    expect([...(starts.rawData ?? [])]).toEqual([0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(starts.int64Data).toHaveLength(0);
    const ends = graph.node[0]!.attribute!.find((a) => a.name === 'ends')!;
    expect(ends.ints!.map((v) => v.toString())).toEqual(['9007199254740991', '9223372036854775807']);
  });

  it('round-trips through readOnnxModel', () => {
    const back = readOnnxModel(writeOnnxModel(handGraph), 'hand.onnx');
    const expected = roundFloatAttrs(handGraph);
    // 2^63 is not an int64; it comes back as INT64_MAX, which as a double is 2^63 again.
    expect(back).toEqual(expected);
  });

  it('round-trips the colour classifier exactly', () => {
    const { graph } = buildColourClassifier();
    expect(readOnnxModel(writeOnnxModel(graph), 'c.onnx')).toEqual(roundFloatAttrs(graph));
  });

  it('round-trips ResNet-50: structure equal, every initializer byte-identical', () => {
    const graph = buildResNet50({ seed: 3, numClasses: 10 });
    const back = readOnnxModel(writeOnnxModel(graph), 'r.onnx');
    const { initializers, ...structure } = roundFloatAttrs(graph);
    const { initializers: backInits, ...backStructure } = back;
    expect(backStructure).toEqual(structure);
    expect(backInits.map(({ name, dtype, shape }) => ({ name, dtype, shape }))).toEqual(
      initializers.map(({ name, dtype, shape }) => ({ name, dtype, shape })),
    );
    initializers.forEach((init, i) => expect(Buffer.compare(init.data, backInits[i]!.data), init.name).toBe(0));
  });
});
