import type { WireDatatype } from './dtype.js';

/**
 * A tensor as it moves between protocol, scheduler and backends: a wire datatype, a concrete shape and
 * little-endian bytes in row-major order. BYTES tensors hold Triton's serialization (uint32 LE length
 * then the bytes, per element). Keeping one byte-level form means binary HTTP, gRPC raw contents and
 * worker_threads transfers never convert element by element.
 */
export interface Tensor {
  readonly name: string;
  readonly datatype: WireDatatype;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}
