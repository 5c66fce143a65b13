import { parseBytesElements, serializeBytesElements } from '../core/tensor/bytes.js';

/**
 * Triton's BYTES serialization (uint32 LE length, then the bytes, per element), with the client's
 * error style: malformed data throws a plain Error that callers wrap with their own context.
 * The codec itself is src/core/tensor/bytes.ts, shared with the server.
 */

const decoder = new TextDecoder('utf-8');

export function serializeBytes(elements: readonly (string | Uint8Array)[]): Uint8Array {
  return serializeBytesElements(elements);
}

export function deserializeBytes(data: Uint8Array): Uint8Array[] {
  const items = parseBytesElements(data);
  if (!items) throw new Error(`malformed BYTES data: a length prefix runs past the end of ${data.byteLength} bytes`);
  return items;
}

export function deserializeStrings(data: Uint8Array): string[] {
  return deserializeBytes(data).map((b) => decoder.decode(b));
}
