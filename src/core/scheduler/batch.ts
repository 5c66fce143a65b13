import { ofsError } from '../../errors.js';
import { elementCount } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Pure batching of tensors along dim 0: several requests' inputs into one execution, and the
 * execution's outputs back per request. BYTES tensors (length-prefixed elements) concatenate as bytes
 * and split by walking element lengths.
 */

/** Requests may be batched together only when this key matches: same names, datatypes, non-batch dims. */
export function batchShapeKey(inputs: readonly Tensor[]): string {
  return inputs
    .map((t) => `${t.name}:${t.datatype}:${t.shape.slice(1).join('x')}`)
    .sort()
    .join('|');
}

/** Concatenates each input (matched by name, in the first request's order) along dim 0. */
export function concatBatch(requests: readonly (readonly Tensor[])[]): Tensor[] {
  if (requests.length === 0) return [];
  const first = requests[0];
  if (requests.length === 1) return [...first];
  return first.map((head) => {
    const parts = requests.map((inputs) => {
      const t = inputs.find((x) => x.name === head.name);
      if (!t || t.datatype !== head.datatype || t.shape.slice(1).join(',') !== head.shape.slice(1).join(',')) {
        throw ofsError('OFS_INTERNAL', `cannot batch input '${head.name}': requests differ in datatype or shape`);
      }
      return t;
    });
    const rows = parts.reduce((n, t) => n + (t.shape[0] ?? 1), 0);
    const data = new Uint8Array(parts.reduce((n, t) => n + t.data.length, 0));
    let offset = 0;
    for (const t of parts) {
      data.set(t.data, offset);
      offset += t.data.length;
    }
    return { name: head.name, datatype: head.datatype, shape: [rows, ...head.shape.slice(1)], data };
  });
}

/** Byte offsets where each BYTES element starts, plus the end offset. */
function bytesElementOffsets(data: Uint8Array, count: number, name: string): number[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const offsets = [0];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > data.length) throw ofsError('OFS_BACKEND_FAILED', `malformed BYTES output '${name}'`);
    at += 4 + view.getUint32(at, true);
    if (at > data.length) throw ofsError('OFS_BACKEND_FAILED', `malformed BYTES output '${name}'`);
    offsets.push(at);
  }
  return offsets;
}

/** Splits batched outputs back: result[r] = the outputs of the request with batch size batchSizes[r]. */
export function splitBatch(outputs: readonly Tensor[], batchSizes: readonly number[]): Tensor[][] {
  const total = batchSizes.reduce((a, b) => a + b, 0);
  const result: Tensor[][] = batchSizes.map(() => []);
  for (const t of outputs) {
    if (t.shape.length === 0 || t.shape[0] !== total) {
      throw ofsError(
        'OFS_BACKEND_FAILED',
        `output '${t.name}' has shape [${t.shape.join(',')}], expected batch dimension ${total}`,
      );
    }
    const rest = t.shape.slice(1);
    const perRow = elementCount(rest);
    let rowStart = 0;
    const byteAt =
      t.datatype === 'BYTES'
        ? (() => {
            const offsets = bytesElementOffsets(t.data, perRow * total, t.name);
            return (row: number) => offsets[row * perRow];
          })()
        : (row: number) => (row * t.data.length) / total;
    batchSizes.forEach((size, r) => {
      const begin = byteAt(rowStart);
      const end = byteAt(rowStart + size);
      result[r].push({ name: t.name, datatype: t.datatype, shape: [size, ...rest], data: t.data.subarray(begin, end) });
      rowStart += size;
    });
  }
  return result;
}
