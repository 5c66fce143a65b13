import * as ort from 'onnxruntime-node';
import { allDtypes, dtypeFromWire, elementCount, type WireDatatype } from '../../core/tensor/dtype.js';
import type { Tensor } from '../../core/tensor/tensor.js';

/**
 * Tensor (wire bytes) ↔ ort.Tensor, inside the worker. Assumes a little-endian host, as every platform
 * onnxruntime-node ships for is.
 */

/** Wraps the tensor's bytes without copying when they are aligned for the element type. */
export function toOrtTensor(t: Tensor): ort.Tensor {
  const d = dtypeFromWire(t.datatype);
  if (!d?.ort || !d.array || d.wire === 'BYTES') throw new Error(`input '${t.name}': datatype ${t.datatype} is not supported by the onnxruntime backend`);
  const count = elementCount(t.shape);
  if (t.data.byteLength !== count * d.itemSize) {
    throw new Error(`input '${t.name}': ${t.data.byteLength} bytes do not hold shape [${t.shape.join(',')}] of ${t.datatype}`);
  }
  const bytes = t.data.byteOffset % d.itemSize === 0 ? t.data : new Uint8Array(t.data);
  const values = new d.array(bytes.buffer, bytes.byteOffset, count);
  return new ort.Tensor(d.ort as ort.Tensor.Type, values as ort.Tensor.DataType, [...t.shape]);
}

const wireByOrt = new Map(allDtypes().filter((d) => d.ort).map((d) => [d.ort as string, d.wire]));

/** Copies the output into a buffer of its own, so it can be transferred to the main thread. */
export function fromOrtTensor(name: string, t: ort.Tensor): Tensor {
  const datatype: WireDatatype | undefined = wireByOrt.get(t.type);
  if (!datatype || datatype === 'BYTES') throw new Error(`output '${name}': ORT type ${t.type} is not supported`);
  const src = t.data as ArrayBufferView;
  const data = new Uint8Array(src.buffer, src.byteOffset, src.byteLength).slice();
  return { name, datatype, shape: [...t.dims], data };
}
