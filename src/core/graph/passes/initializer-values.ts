import { ofsError } from '../../../errors.js';
import { float32Bytes } from '../builders/graph-builder.js';
import type { Initializer } from '../ir.js';

/**
 * Numeric views of initializer bytes for passes that compute on weights. Initializer data is
 * little-endian and need not be 4-byte aligned (it is often a view into a protobuf buffer), so these
 * always read through a DataView into fresh arrays.
 */

export function float32Values(init: Initializer): Float32Array {
  if (init.dtype !== 'FP32') throw ofsError('OFS_GRAPH_INVALID', `initializer ${init.name} is ${init.dtype}, expected FP32`);
  const count = elementCount(init);
  if (init.data.byteLength !== count * 4) {
    throw ofsError('OFS_GRAPH_INVALID', `initializer ${init.name} holds ${init.data.byteLength} bytes for shape [${init.shape.join(',')}]`);
  }
  const view = new DataView(init.data.buffer, init.data.byteOffset, init.data.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** INT64 (or INT32) initializer values as numbers; shape constants are small, so no precision is lost. */
export function integerValues(init: Initializer): number[] {
  const count = elementCount(init);
  const width = init.dtype === 'INT64' ? 8 : init.dtype === 'INT32' ? 4 : 0;
  if (width === 0) throw ofsError('OFS_GRAPH_INVALID', `initializer ${init.name} is ${init.dtype}, expected INT64`);
  if (init.data.byteLength !== count * width) {
    throw ofsError('OFS_GRAPH_INVALID', `initializer ${init.name} holds ${init.data.byteLength} bytes for shape [${init.shape.join(',')}]`);
  }
  const view = new DataView(init.data.buffer, init.data.byteOffset, init.data.byteLength);
  return Array.from({ length: count }, (_, i) => (width === 8 ? Number(view.getBigInt64(i * 8, true)) : view.getInt32(i * 4, true)));
}

export function float32Initializer(name: string, shape: readonly number[], values: Float32Array): Initializer {
  return { name, dtype: 'FP32', shape: [...shape], data: float32Bytes(values) };
}

function elementCount(init: Initializer): number {
  return init.shape.reduce((a, b) => a * b, 1);
}
