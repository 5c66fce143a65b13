/**
 * The one table of tensor element types. Every layer converts through it: Triton config enums
 * (`TYPE_FP32`), KServe wire names (`FP32`), ONNX TensorProto element types, OneFlow DataType numbers.
 */

export type WireDatatype =
  | 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64'
  | 'INT8' | 'INT16' | 'INT32' | 'INT64'
  | 'FP16' | 'FP32' | 'FP64' | 'BYTES' | 'BF16';

export type ConfigDataType = `TYPE_${Exclude<WireDatatype, 'BYTES'>}` | 'TYPE_STRING';

export type TypedArray =
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array
  | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Float32Array | Float64Array;

export interface DtypeInfo {
  readonly wire: WireDatatype;
  readonly config: ConfigDataType;
  /** Bytes per element; 0 for BYTES (variable length). */
  readonly itemSize: number;
  /** ONNX TensorProto.DataType. */
  readonly onnx: number;
  /** OneFlow DataType enum number, where OneFlow has the type. */
  readonly oneflow?: number;
  /** onnxruntime-node Tensor type string. */
  readonly ort?: string;
  /** The typed array that holds it in memory (FP16/BF16 travel as raw Uint16). */
  readonly array?: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray; new (length: number): TypedArray };
}

const TABLE: readonly DtypeInfo[] = [
  { wire: 'BOOL', config: 'TYPE_BOOL', itemSize: 1, onnx: 9, oneflow: 12, ort: 'bool', array: Uint8Array },
  { wire: 'UINT8', config: 'TYPE_UINT8', itemSize: 1, onnx: 2, oneflow: 7, ort: 'uint8', array: Uint8Array },
  { wire: 'UINT16', config: 'TYPE_UINT16', itemSize: 2, onnx: 4, ort: 'uint16', array: Uint16Array },
  { wire: 'UINT32', config: 'TYPE_UINT32', itemSize: 4, onnx: 12, ort: 'uint32', array: Uint32Array },
  { wire: 'UINT64', config: 'TYPE_UINT64', itemSize: 8, onnx: 13, ort: 'uint64', array: BigUint64Array },
  { wire: 'INT8', config: 'TYPE_INT8', itemSize: 1, onnx: 3, oneflow: 4, ort: 'int8', array: Int8Array },
  { wire: 'INT16', config: 'TYPE_INT16', itemSize: 2, onnx: 5, ort: 'int16', array: Int16Array },
  { wire: 'INT32', config: 'TYPE_INT32', itemSize: 4, onnx: 6, oneflow: 5, ort: 'int32', array: Int32Array },
  { wire: 'INT64', config: 'TYPE_INT64', itemSize: 8, onnx: 7, oneflow: 6, ort: 'int64', array: BigInt64Array },
  { wire: 'FP16', config: 'TYPE_FP16', itemSize: 2, onnx: 10, oneflow: 9, ort: 'float16', array: Uint16Array },
  { wire: 'FP32', config: 'TYPE_FP32', itemSize: 4, onnx: 1, oneflow: 2, ort: 'float32', array: Float32Array },
  { wire: 'FP64', config: 'TYPE_FP64', itemSize: 8, onnx: 11, oneflow: 3, ort: 'float64', array: Float64Array },
  { wire: 'BYTES', config: 'TYPE_STRING', itemSize: 0, onnx: 8, ort: 'string' },
  { wire: 'BF16', config: 'TYPE_BF16', itemSize: 2, onnx: 16, oneflow: 11, ort: 'bfloat16', array: Uint16Array },
];

const byWire = new Map(TABLE.map((d) => [d.wire, d]));
const byConfig = new Map(TABLE.map((d) => [d.config, d]));
const byOnnx = new Map(TABLE.map((d) => [d.onnx, d]));
const byOneflow = new Map(TABLE.filter((d) => d.oneflow !== undefined).map((d) => [d.oneflow as number, d]));

export function dtypeFromWire(name: string): DtypeInfo | undefined {
  return byWire.get(name as WireDatatype);
}
export function dtypeFromConfig(name: string): DtypeInfo | undefined {
  return byConfig.get(name as ConfigDataType);
}
export function dtypeFromOnnx(elemType: number): DtypeInfo | undefined {
  return byOnnx.get(elemType);
}
export function dtypeFromOneflow(dataType: number): DtypeInfo | undefined {
  return byOneflow.get(dataType);
}
export function allDtypes(): readonly DtypeInfo[] {
  return TABLE;
}

/** OneFlow's `VariableMetaInfo.data_type` enum names (`kFloat`) ↔ numbers. */
export const ONEFLOW_DTYPE_NAMES: Readonly<Record<string, number>> = {
  kChar: 1, kFloat: 2, kDouble: 3, kInt8: 4, kInt32: 5, kInt64: 6, kUInt8: 7, kFloat16: 9, kBFloat16: 11, kBool: 12,
};

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
