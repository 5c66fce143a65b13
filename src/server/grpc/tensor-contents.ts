import { ofsError } from '../../errors.js';
import { serializeBytesElements } from '../../core/tensor/bytes.js';
import type { GrpcTensorContents, Int64 } from './messages.js';

/**
 * InferTensorContents (the typed repeated fields) → the little-endian bytes a Tensor carries. Which
 * field is read follows the input's datatype, as in Triton: INT8/16/32 share int_contents, UINT8/16/32
 * share uint_contents. A field that does not match the datatype is simply not read, so the data plane
 * then reports the byte-size mismatch against the shape.
 */

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

const toBigInts = (values: readonly Int64[]): bigint[] => values.map((v) => BigInt(v));

export function contentsToBytes(input: string, datatype: string, contents: GrpcTensorContents): Uint8Array {
  switch (datatype) {
    case 'BOOL': return Uint8Array.from(contents.bool_contents ?? [], (b) => (b ? 1 : 0));
    case 'INT8': return bytesOf(Int8Array.from(contents.int_contents ?? []));
    case 'INT16': return bytesOf(Int16Array.from(contents.int_contents ?? []));
    case 'INT32': return bytesOf(Int32Array.from(contents.int_contents ?? []));
    case 'INT64': return bytesOf(BigInt64Array.from(toBigInts(contents.int64_contents ?? [])));
    case 'UINT8': return Uint8Array.from(contents.uint_contents ?? []);
    case 'UINT16': return bytesOf(Uint16Array.from(contents.uint_contents ?? []));
    case 'UINT32': return bytesOf(Uint32Array.from(contents.uint_contents ?? []));
    case 'UINT64': return bytesOf(BigUint64Array.from(toBigInts(contents.uint64_contents ?? [])));
    case 'FP32': return bytesOf(Float32Array.from(contents.fp32_contents ?? []));
    case 'FP64': return bytesOf(Float64Array.from(contents.fp64_contents ?? []));
    case 'BYTES': return serializeBytesElements(contents.bytes_contents ?? []);
    case 'FP16':
    case 'BF16':
      throw ofsError('OFS_INFER_INPUT', `input '${input}' has datatype ${datatype}, which has no typed contents field; send it in raw_input_contents`);
    // An unknown datatype gets no bytes; the data plane names the datatype mismatch.
    default: return new Uint8Array(0);
  }
}
