import type { WireDatatype } from '../tensor/dtype.js';

/**
 * ofserve's one graph representation. The ONNX reader and the OneFlow MLIR importer both build it;
 * the ONNX writer lowers it for onnxruntime, and the native GPU backend will consume it directly.
 *
 * Op types and attribute semantics are ONNX's (default domain, opset `Graph.opset`), so the IR stays
 * a faithful subset of a standard everyone can check, and lowering to ONNX is a serialization, not a
 * translation. Importers of other formats (OneFlow) do the translation once, at import.
 */

/** A dimension: a size, or -1 when it is dynamic (e.g. the batch dimension). */
export type Dim = number;

export interface ValueInfo {
  readonly name: string;
  readonly dtype: WireDatatype;
  readonly shape: readonly Dim[];
}

/** A constant tensor (weights, biases, shape constants): little-endian row-major bytes. */
export interface Initializer {
  readonly name: string;
  readonly dtype: WireDatatype;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

export type Attr =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'strings'; readonly value: readonly string[] }
  | { readonly kind: 'tensor'; readonly value: Initializer };

export interface Node {
  /** ONNX op type, e.g. `Conv`, `BatchNormalization`, `Gemm`. */
  readonly op: string;
  /** ONNX domain; '' (the default domain) for every op ofserve produces. */
  readonly domain?: string;
  readonly name: string;
  /** Value names; '' marks an omitted optional input, as in ONNX. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Readonly<Record<string, Attr>>;
}

export interface Graph {
  readonly name: string;
  /** Real graph inputs (not initializers), in order. */
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  /** Topologically sorted. */
  readonly nodes: readonly Node[];
  readonly initializers: readonly Initializer[];
  /** ONNX default-domain opset the node semantics follow. */
  readonly opset: number;
}

/** Opset ofserve's writers and importers target. */
export const IR_OPSET = 17;

export const attr = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
  ints: (value: readonly number[]): Attr => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): Attr => ({ kind: 'floats', value }),
};
