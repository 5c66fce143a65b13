import onnxProto from 'onnx-proto';
import { ofsError } from '../../errors.js';
import { dtypeFromOnnx, elementCount, type WireDatatype } from '../tensor/dtype.js';
import type { Attr, Dim, Graph, Initializer, Node, ValueInfo } from './ir.js';
import { serializeBytesElements } from '../tensor/bytes.js';

const { onnx } = onnxProto;

/** protobufjs 6 decodes int64 fields as Long objects when the `long` package is present, else numbers. */
type Int64 = number | { low: number; high: number; toNumber(): number };

function toNumber(v: Int64 | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

function toBigInt(v: Int64): bigint {
  if (typeof v === 'number') return BigInt(v);
  return (BigInt(v.high) << 32n) | BigInt(v.low >>> 0);
}

const utf8 = new TextDecoder();

/** Raised inside the reader; readOnnxModel adds the file name. */
class FormatError extends Error {}

/**
 * Parses ONNX ModelProto bytes into the graph IR. Throws OFS_MODEL_FORMAT (naming `file`) for bytes that
 * are not a model, or a model the IR cannot hold (external data, subgraph attributes, non-tensor values).
 */
export function readOnnxModel(bytes: Uint8Array, file: string): Graph {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw ofsError('OFS_MODEL_FORMAT', file, `not an ONNX protobuf (${e instanceof Error ? e.message : String(e)})`);
  }
  try {
    return toGraph(model);
  } catch (e) {
    if (e instanceof FormatError) throw ofsError('OFS_MODEL_FORMAT', file, e.message);
    throw e;
  }
}

function toGraph(model: onnxProto.onnx.ModelProto): Graph {
  const g = model.graph;
  if (!g) throw new FormatError('the model has no graph');
  const opset = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!opset) throw new FormatError('the model declares no opset for the default ONNX domain');

  const initializers = (g.initializer ?? []).map((t) => toInitializer(t, `initializer '${t.name ?? ''}'`));
  const constant = new Set(initializers.map((i) => i.name));
  // Before IR v4 every initializer was also listed as an input; only the rest are fed at run time.
  const inputs = (g.input ?? []).filter((v) => !constant.has(v.name ?? '')).map((v) => toValueInfo(v, 'input'));
  const outputs = (g.output ?? []).map((v) => toValueInfo(v, 'output'));
  if (inputs.length === 0) throw new FormatError('the graph has no inputs');
  if (outputs.length === 0) throw new FormatError('the graph has no outputs');

  return {
    name: g.name ?? '',
    inputs,
    outputs,
    nodes: (g.node ?? []).map(toNode),
    initializers,
    opset: toNumber(opset.version),
  };
}

function toDtype(elemType: number | null | undefined, where: string): WireDatatype {
  const d = dtypeFromOnnx(elemType ?? 0);
  if (!d) throw new FormatError(`${where} has unsupported element type ${elemType ?? 0}`);
  return d.wire;
}

function toValueInfo(v: onnxProto.onnx.IValueInfoProto, role: string): ValueInfo {
  const where = `${role} '${v.name ?? ''}'`;
  const tt = v.type?.tensorType;
  if (!tt) throw new FormatError(`${where} is not a tensor`);
  // `value` is protobufjs's oneof discriminator: a dim with neither field set is unknown, not 0.
  // A value with no shape at all (unknown rank) comes out as [], the IR having no way to say 'any rank'.
  const shape: Dim[] = (tt.shape?.dim ?? []).map((d) =>
    (d as onnxProto.onnx.TensorShapeProto.Dimension).value === 'dimValue' ? toNumber(d.dimValue as Int64) : -1,
  );
  return { name: v.name ?? '', dtype: toDtype(tt.elemType, where), shape };
}

function toNode(n: onnxProto.onnx.INodeProto): Node {
  const attrs: Record<string, Attr> = {};
  for (const a of n.attribute ?? []) attrs[a.name ?? ''] = toAttr(a, `attribute '${a.name ?? ''}' of node '${n.name ?? ''}'`);
  const node: Node = {
    op: n.opType ?? '',
    name: n.name ?? '',
    inputs: [...(n.input ?? [])],
    outputs: [...(n.output ?? [])],
    attrs,
  };
  return n.domain && n.domain !== 'ai.onnx' ? { ...node, domain: n.domain } : node;
}

const T = onnx.AttributeProto.AttributeType;

function toAttr(a: onnxProto.onnx.IAttributeProto, where: string): Attr {
  switch (a.type || inferAttrType(a)) {
    case T.FLOAT: return { kind: 'float', value: a.f ?? 0 };
    case T.INT: return { kind: 'int', value: toNumber(a.i as Int64) };
    case T.STRING: return { kind: 'string', value: utf8.decode(a.s ?? new Uint8Array()) };
    case T.FLOATS: return { kind: 'floats', value: [...(a.floats ?? [])] };
    case T.INTS: return { kind: 'ints', value: (a.ints ?? []).map((v) => toNumber(v as Int64)) };
    case T.STRINGS: return { kind: 'strings', value: (a.strings ?? []).map((s) => utf8.decode(s)) };
    case T.TENSOR:
      if (!a.t) throw new FormatError(`${where} has no tensor`);
      return { kind: 'tensor', value: toInitializer(a.t, where) };
    default:
      throw new FormatError(`${where} is of type ${T[a.type ?? 0] ?? a.type}, which ofserve's graph IR does not hold`);
  }
}

/** Models written before IR v2 may leave `type` unset; the populated field says what it is. */
function inferAttrType(a: onnxProto.onnx.IAttributeProto): number {
  if (a.floats?.length) return T.FLOATS;
  if (a.ints?.length) return T.INTS;
  if (a.strings?.length) return T.STRINGS;
  if (a.t) return T.TENSOR;
  if (a.g) return T.GRAPH;
  if (a.s?.length) return T.STRING;
  if (a.f) return T.FLOAT;
  return T.INT;
}

function toInitializer(t: onnxProto.onnx.ITensorProto, where: string): Initializer {
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || t.externalData?.length) {
    throw new FormatError(`${where} keeps its data in an external file, which ofserve does not load`);
  }
  const dtype = toDtype(t.dataType, where);
  const shape = (t.dims ?? []).map((d) => toNumber(d as Int64));
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0) || !Number.isSafeInteger(elementCount(shape))) {
    throw new FormatError(`${where} has invalid dims [${shape.join(', ')}]`);
  }
  return { name: t.name ?? '', dtype, shape, data: tensorBytes(t, dtype, elementCount(shape), where) };
}

/** The tensor's elements as little-endian bytes, from raw_data or whichever typed field holds them. */
function tensorBytes(t: onnxProto.onnx.ITensorProto, dtype: WireDatatype, count: number, where: string): Uint8Array {
  if (dtype === 'BYTES') return serializeBytesElements(t.stringData ?? []);
  const itemSize = dtypeFromOnnx(t.dataType ?? 0)?.itemSize ?? 0;
  const size = count * itemSize;
  if (t.rawData && t.rawData.length > 0) {
    if (t.rawData.length !== size) throw new FormatError(`${where} has ${t.rawData.length} bytes of data, expected ${size}`);
    // A copy (not Buffer#slice, which is a view): the decoded field points into the whole file's buffer.
    return new Uint8Array(t.rawData);
  }
  // The typed field's length is checked before allocating: dims are only a claim, and [2^20, 2^20]
  // with no data must be an error, not a 4 TiB allocation.
  const typedLength =
    dtype === 'FP32' ? t.floatData?.length : dtype === 'FP64' ? t.doubleData?.length : dtype === 'INT64' ? t.int64Data?.length
    : dtype === 'UINT32' || dtype === 'UINT64' ? t.uint64Data?.length : t.int32Data?.length;
  if ((typedLength ?? 0) !== count) throw new FormatError(`${where} has ${typedLength ?? 0} values, expected ${count}`);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  switch (dtype) {
    case 'FP32': {
      const src = t.floatData ?? [];
      src.forEach((v, i) => view.setFloat32(i * 4, v, true));
      break;
    }
    case 'FP64': {
      const src = t.doubleData ?? [];
      src.forEach((v, i) => view.setFloat64(i * 8, v, true));
      break;
    }
    case 'INT64': {
      const src = (t.int64Data ?? []) as Int64[];
      src.forEach((v, i) => view.setBigInt64(i * 8, BigInt.asIntN(64, toBigInt(v)), true));
      break;
    }
    case 'UINT32':
    case 'UINT64': {
      const src = (t.uint64Data ?? []) as Int64[];
      src.forEach((v, i) => {
        const u = BigInt.asUintN(64, toBigInt(v));
        if (dtype === 'UINT64') view.setBigUint64(i * 8, u, true);
        else view.setUint32(i * 4, Number(u), true);
      });
      break;
    }
    default: {
      // int32_data carries every type of 32 bits or fewer (FP16/BF16 as their bit patterns).
      const src = t.int32Data ?? [];
      src.forEach((v, i) => {
        if (itemSize === 4) view.setInt32(i * 4, v, true);
        else if (itemSize === 2) view.setUint16(i * 2, v & 0xffff, true);
        else view.setUint8(i, v & 0xff);
      });
    }
  }
  return out;
}

