import { ofsError } from '../errors.js';
import { elementCount, type WireDatatype } from '../core/tensor/dtype.js';
import type { Tensor } from '../core/tensor/tensor.js';
import { serializeBytesElements } from '../core/tensor/bytes.js';
import { formatCFloat } from './format-c.js';

/**
 * Triton's classification extension (triton-protocol.md §3, after src/classification.cc): the top k
 * entries of an output, best first, as "<%f value>:<index>[:<label>]" BYTES strings.
 */

/** Triton refuses to classify tensors larger than this. */
export const MAX_CLASSIFICATION_ELEMENTS = 1_000_000;

export interface ClassifyOptions {
  /** How many classes to keep per row (Triton's `classification` parameter). */
  readonly k: number;
  /** The model batches (max_batch_size > 0): top-k per batch row instead of over the whole tensor. */
  readonly batched: boolean;
  /** Line i = label of class i; a missing or empty line means no `:label` suffix. */
  readonly labels?: readonly string[];
}

type Reader = (i: number) => number | bigint;

function readerFor(datatype: WireDatatype, data: Uint8Array): Reader | undefined {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (datatype) {
    case 'UINT8': return (i) => v.getUint8(i);
    case 'UINT16': return (i) => v.getUint16(i * 2, true);
    case 'UINT32': return (i) => v.getUint32(i * 4, true);
    case 'UINT64': return (i) => v.getBigUint64(i * 8, true);
    case 'INT8': return (i) => v.getInt8(i);
    case 'INT16': return (i) => v.getInt16(i * 2, true);
    case 'INT32': return (i) => v.getInt32(i * 4, true);
    case 'INT64': return (i) => v.getBigInt64(i * 8, true);
    case 'FP32': return (i) => v.getFloat32(i * 4, true);
    case 'FP64': return (i) => v.getFloat64(i * 8, true);
    default: return undefined;
  }
}

/** Descending; NaN sorts last (std::sort leaves it unspecified); ties keep the lower index first. */
function better(a: number | bigint, ia: number, b: number | bigint, ib: number): boolean {
  const aNaN = typeof a === 'number' && Number.isNaN(a);
  const bNaN = typeof b === 'number' && Number.isNaN(b);
  if (aNaN !== bNaN) return bNaN;
  if (!aNaN && a !== b) return a > b;
  return ia < ib;
}

/** Indices of the best `k` of `values[start, start+n)`, best first, relative to `start`. */
function topK(read: Reader, start: number, n: number, k: number): number[] {
  const keep = Math.min(k, n);
  const best: number[] = [];
  const bestValues: (number | bigint)[] = [];
  for (let i = 0; i < n; i++) {
    const value = read(start + i);
    if (best.length === keep && !better(value, i, bestValues[keep - 1], best[keep - 1])) continue;
    let at = best.length === keep ? keep - 1 : best.length;
    while (at > 0 && better(value, i, bestValues[at - 1], best[at - 1])) {
      if (at < keep) {
        best[at] = best[at - 1];
        bestValues[at] = bestValues[at - 1];
      }
      at--;
    }
    best[at] = i;
    bestValues[at] = value;
  }
  return best;
}

function formatValue(value: number | bigint, datatype: WireDatatype): string {
  if (typeof value === 'bigint') return value.toString();
  return datatype === 'FP32' || datatype === 'FP64' ? formatCFloat(value) : String(value);
}

/** Replaces an output tensor by its classification strings (datatype BYTES, same name). */
export function classify(tensor: Tensor, options: ClassifyOptions): Tensor {
  const read = readerFor(tensor.datatype, tensor.data);
  if (!read) throw ofsError('OFS_CLASSIFICATION_TYPE', tensor.datatype);
  const total = elementCount(tensor.shape);
  if (total > MAX_CLASSIFICATION_ELEMENTS) throw ofsError('OFS_CLASSIFICATION_TOO_LARGE');

  const perRow = options.batched && tensor.shape.length > 1;
  const rows = perRow ? tensor.shape[0] : 1;
  const rowSize = rows === 0 ? 0 : total / rows;
  const kept = Math.min(options.k, rowSize);
  const strings: string[] = [];
  for (let r = 0; r < rows; r++) {
    const start = r * rowSize;
    for (const index of topK(read, start, rowSize, options.k)) {
      const label = options.labels?.[index];
      const text = `${formatValue(read(start + index), tensor.datatype)}:${index}`;
      strings.push(label ? `${text}:${label}` : text);
    }
  }
  return {
    name: tensor.name,
    datatype: 'BYTES',
    shape: perRow ? [rows, kept] : [kept],
    data: serializeBytesElements(strings),
  };
}
