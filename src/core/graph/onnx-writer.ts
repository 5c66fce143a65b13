import onnxProto from 'onnx-proto';
import { ofsError } from '../../errors.js';
import { dtypeFromWire } from '../tensor/dtype.js';
import type { Attr, Graph, Initializer, ValueInfo } from './ir.js';

const { onnx } = onnxProto;
const T = onnx.AttributeProto.AttributeType;
const utf8 = new TextEncoder();

const IR_VERSION = 8;
/** Version declared for any non-default domain a node uses; ofserve's own graphs never do. */
const CUSTOM_DOMAIN_VERSION = 1;

/**
 * Serializes the graph IR as an ONNX ModelProto (IR v8) for onnxruntime. Initializers go out as
 * raw_data, dynamic dims as dim_param ('batch' for the leading one, so inputs and outputs share it).
 */
export function writeOnnxModel(graph: Graph, opts: WriteOnnxOptions = {}): Uint8Array {
  const domains = new Set(graph.nodes.map((n) => n.domain ?? '').filter((d) => d !== ''));
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'ofserve',
    opsetImport: [
      { domain: '', version: graph.opset },
      ...[...domains].map((domain) => ({ domain, version: CUSTOM_DOMAIN_VERSION })),
    ],
    graph: {
      name: graph.name,
      input: graph.inputs.map(valueInfo),
      output: [...graph.outputs.map(valueInfo), ...(opts.extraFp32Outputs ?? []).map(untypedShape)],
      initializer: graph.initializers.map(tensor),
      node: graph.nodes.map((n) => ({
        opType: n.op,
        domain: n.domain ?? '',
        name: n.name,
        input: [...n.inputs],
        output: [...n.outputs],
        attribute: Object.entries(n.attrs).map(([name, a]) => attribute(name, a)),
      })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

export interface WriteOnnxOptions {
  /**
   * Intermediate FP32 values to expose as extra graph outputs, shape left open (the IR keeps no
   * shapes for intermediates). Calibration reads activations this way.
   */
  readonly extraFp32Outputs?: readonly string[];
}

function untypedShape(name: string): onnxProto.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: elemType('FP32') } } };
}

function elemType(dtype: string): number {
  const d = dtypeFromWire(dtype);
  if (!d) throw ofsError('OFS_GRAPH_INVALID', `unknown datatype ${dtype}`);
  return d.onnx;
}

function valueInfo(v: ValueInfo): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: elemType(v.dtype),
        shape: { dim: v.shape.map((d, i) => (d >= 0 ? { dimValue: d } : { dimParam: i === 0 ? 'batch' : `dim_${i}` })) },
      },
    },
  };
}

function tensor(t: Initializer): onnxProto.onnx.ITensorProto {
  const base = { name: t.name, dataType: elemType(t.dtype), dims: [...t.shape] };
  if (t.dtype === 'BYTES') return { ...base, stringData: parseStrings(t.data) };
  return { ...base, rawData: t.data };
}

/** Clamps to int64 so INT64_MAX-style sentinels (Slice ends) survive the trip through a JS number. */
function int64(v: number): number | { low: number; high: number; unsigned: boolean } {
  if (Number.isSafeInteger(v)) return v;
  const b = v >= 2 ** 63 ? 2n ** 63n - 1n : v < -(2 ** 63) ? -(2n ** 63n) : BigInt(Math.trunc(v));
  const u = BigInt.asUintN(64, b);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned: false };
}

function attribute(name: string, a: Attr): onnxProto.onnx.IAttributeProto {
  switch (a.kind) {
    case 'int': return { name, type: T.INT, i: int64(a.value) as number };
    case 'float': return { name, type: T.FLOAT, f: a.value };
    case 'string': return { name, type: T.STRING, s: utf8.encode(a.value) };
    case 'ints': return { name, type: T.INTS, ints: a.value.map(int64) as number[] };
    case 'floats': return { name, type: T.FLOATS, floats: [...a.value] };
    case 'strings': return { name, type: T.STRINGS, strings: a.value.map((s) => utf8.encode(s)) };
    case 'tensor': return { name, type: T.TENSOR, t: tensor(a.value) };
  }
}

/** Inverse of the reader's BYTES serialization (uint32 LE length, then bytes, per element). */
function parseStrings(data: Uint8Array): Uint8Array[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Uint8Array[] = [];
  for (let at = 0; at + 4 <= data.length; ) {
    const n = view.getUint32(at, true);
    out.push(data.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}
