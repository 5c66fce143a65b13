/**
 * Triton's BYTES tensor serialization: per element a uint32 little-endian length, then the raw bytes.
 * The same layout travels in binary HTTP bodies, gRPC raw contents and ofserve's Tensor.data.
 */

const encoder = new TextEncoder();

export function serializeBytesElements(items: readonly (Uint8Array | string)[]): Uint8Array {
  const parts = items.map((item) => (typeof item === 'string' ? encoder.encode(item) : item));
  let total = 0;
  for (const p of parts) total += 4 + p.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const p of parts) {
    view.setUint32(offset, p.length, true);
    out.set(p, offset + 4);
    offset += 4 + p.length;
  }
  return out;
}

/** The elements of a serialized BYTES tensor (views into `data`), or undefined when it is malformed. */
export function parseBytesElements(data: Uint8Array): Uint8Array[] | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const items: Uint8Array[] = [];
  let offset = 0;
  while (offset < data.length) {
    if (offset + 4 > data.length) return undefined;
    const len = view.getUint32(offset, true);
    const start = offset + 4;
    if (start + len > data.length) return undefined;
    items.push(data.subarray(start, start + len));
    offset = start + len;
  }
  return items;
}

/** Element count of a serialized BYTES tensor, or undefined when it is malformed. */
export function countBytesElements(data: Uint8Array): number | undefined {
  return parseBytesElements(data)?.length;
}
