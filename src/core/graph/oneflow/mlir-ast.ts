/**
 * The parsed form of the part of MLIR that `flow.save(graph, dir)` writes: one module of
 * `oneflow.job` functions whose bodies are flat lists of generic-form ops. Nothing here knows what a
 * OneFlow op means; the importer gives the ops their semantics.
 */

/** A tensor type; `shape` is null for an unranked tensor, and a `?` dimension is -1. */
export interface MlirTensorType {
  readonly kind: 'tensor';
  readonly shape: readonly number[] | null;
  /** Element type as printed: `f32`, `i64`, `si32`, … */
  readonly elem: string;
}

/** Any other type (`i32`, `vector<4xi32>`, `none`, `!dialect.type`), kept as its text. */
export interface MlirOtherType {
  readonly kind: 'other';
  readonly text: string;
}

export type MlirType = MlirTensorType | MlirOtherType;

export type MlirAttr =
  | { readonly kind: 'int'; readonly value: number; readonly type?: string }
  | { readonly kind: 'float'; readonly value: number; readonly type?: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'array'; readonly value: readonly MlirAttr[] }
  /** `dense<…> : vector<Nxi32>`; a splat keeps its one value in `value` and says so. */
  | { readonly kind: 'dense'; readonly value: readonly MlirAttr[]; readonly splat: boolean; readonly type: MlirType }
  /** `array<i32: 1, 2>` (MLIR's DenseArrayAttr). */
  | { readonly kind: 'dense_array'; readonly elem: string; readonly value: readonly number[] }
  | { readonly kind: 'dict'; readonly value: ReadonlyMap<string, MlirAttr> }
  | { readonly kind: 'unit' }
  | { readonly kind: 'type'; readonly value: MlirType }
  | { readonly kind: 'symbol'; readonly value: string }
  /** A dialect attribute such as `#sbp.parallel<[] -> [#sbp.B]>`, kept as its text. */
  | { readonly kind: 'opaque'; readonly text: string };

export interface MlirOp {
  /** Full op name, e.g. `oneflow.conv2d`. */
  readonly name: string;
  /** SSA names of the results in order; a packed group `%0:2` expands to `%0#0`, `%0#1`. */
  readonly results: readonly string[];
  /** SSA names of the operands, e.g. `%output_3`, `%0#1`. */
  readonly operands: readonly string[];
  readonly attrs: ReadonlyMap<string, MlirAttr>;
  readonly operandTypes: readonly MlirType[];
  readonly resultTypes: readonly MlirType[];
  /** False for an op printed in a custom form ofserve does not parse (its operands are not read). */
  readonly generic: boolean;
  readonly line: number;
  readonly column: number;
}

export interface MlirJobArg {
  readonly name: string;
  readonly type: MlirType;
}

export interface MlirJob {
  readonly name: string;
  readonly args: readonly MlirJobArg[];
  readonly resultTypes: readonly MlirType[];
  /** Body ops in order, `oneflow.return` excluded. */
  readonly ops: readonly MlirOp[];
  /** Operands of the terminating `oneflow.return`. */
  readonly returns: readonly string[];
  readonly line: number;
  readonly column: number;
}

export interface MlirModule {
  readonly jobs: readonly MlirJob[];
}
