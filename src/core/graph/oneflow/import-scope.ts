import { ofsError } from '../../../errors.js';
import type { WireDatatype } from '../../tensor/dtype.js';
import { int64Bytes } from '../builders/graph-builder.js';
import type { Attr, Initializer, Node } from '../ir.js';
import type { MlirOp, MlirTensorType } from './mlir-ast.js';
import { OpAttrs, asTensorType } from './mlir-attrs.js';

/**
 * The state an import builds up (nodes, constants, SSA value → IR value name) and, per op, the
 * helpers a converter needs. Converters only translate; naming, uniqueness and bookkeeping live here.
 */
export class ImportState {
  readonly file: string;
  readonly nodes: Node[] = [];
  readonly initializers: Initializer[] = [];
  /** op_names of normalization ops saved with training = true. */
  readonly trainingModeOps: string[] = [];
  /** SSA value → IR value name. */
  readonly values = new Map<string, string>();
  /** SSA value → its MLIR type. */
  readonly types = new Map<string, MlirTensorType>();
  /** SSA values backed by an initializer (constant at serving time). */
  readonly constants = new Set<string>();
  /** SSA results ofserve does not compute (e.g. max_pool's indices), with why. */
  readonly unavailable = new Map<string, string>();
  /** SSA value → the graph output name it becomes (first claim wins). */
  readonly outputClaims = new Map<string, string>();
  readonly #valueNames = new Set<string>();
  readonly #nodeNames = new Set<string>();

  constructor(file: string) {
    this.file = file;
  }

  /** A value name not used yet, as close to `base` as possible. */
  freshValue(base: string): string {
    return unique(this.#valueNames, base || 'value');
  }

  reserveValue(name: string): void {
    this.#valueNames.add(name);
  }

  freshNode(base: string): string {
    return unique(this.#nodeNames, base || 'node');
  }

  addInitializer(init: Initializer): void {
    this.reserveValue(init.name);
    this.initializers.push(init);
  }
}

function unique(taken: Set<string>, base: string): string {
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

export class OpScope {
  readonly op: MlirOp;
  /** The OneFlow op type, e.g. `conv2d` (for `oneflow.user`, its op_type_name). */
  readonly type: string;
  readonly attrs: OpAttrs;
  readonly #st: ImportState;
  readonly #base: string;

  constructor(state: ImportState, op: MlirOp, type: string) {
    this.#st = state;
    this.op = op;
    this.type = type;
    this.attrs = new OpAttrs(op, state.file);
    this.#base = this.attrs.opName() || `${type}${op.results[0] ?? ''}`;
  }

  get opName(): string {
    return this.attrs.opName();
  }

  get where(): string {
    return `${this.#st.file}:${this.op.line}:${this.op.column}`;
  }

  /** Throws OFS_UNSUPPORTED_OP for this op, optionally saying which part of it is the problem. */
  unsupported(detail?: string): never {
    const what = detail ? `${this.op.name} (${detail})` : this.op.name;
    throw ofsError('OFS_UNSUPPORTED_OP', what, this.opName, this.where);
  }

  fail(what: string): never {
    return this.attrs.fail(what);
  }

  /** Records that this op was traced in training mode (served with its moving statistics). */
  noteTrainingMode(): void {
    this.#st.trainingModeOps.push(this.opName || this.op.name);
  }

  /**
   * Operands grouped by the op's declared (ODS) operand names. With `operand_segment_sizes` the
   * groups follow it; without it operands fill the names in order, one each.
   */
  operands(names: readonly string[]): Map<string, string[]> {
    const sizes = this.attrs.has('operand_segment_sizes') ? this.attrs.ints('operand_segment_sizes') : undefined;
    const out = new Map<string, string[]>();
    if (sizes) {
      if (sizes.length !== names.length || sizes.reduce((a, b) => a + b, 0) !== this.op.operands.length) {
        this.fail(`operand_segment_sizes [${sizes.join(', ')}] does not match its ${this.op.operands.length} operands`);
      }
      let at = 0;
      names.forEach((n, i) => {
        const k = sizes[i] as number;
        out.set(n, this.op.operands.slice(at, at + k));
        at += k;
      });
      return out;
    }
    if (this.op.operands.length > names.length) this.fail(`expected at most ${names.length} operands, found ${this.op.operands.length}`);
    names.forEach((n, i) => out.set(n, i < this.op.operands.length ? [this.op.operands[i] as string] : []));
    return out;
  }

  /** The single operand of a group, failing when it is absent. */
  required(groups: Map<string, string[]>, name: string): string {
    const g = groups.get(name) ?? [];
    if (g.length !== 1) this.fail(`needs exactly one '${name}' operand`);
    return g[0] as string;
  }

  optional(groups: Map<string, string[]>, name: string): string | undefined {
    const g = groups.get(name) ?? [];
    if (g.length > 1) this.fail(`takes at most one '${name}' operand`);
    return g[0];
  }

  /** The operand at `index` when the op takes plain positional operands. */
  arg(index: number): string {
    const ssa = this.op.operands[index];
    if (ssa === undefined) this.fail(`needs at least ${index + 1} operand(s)`);
    return ssa;
  }

  /** IR value name of an SSA operand. */
  value(ssa: string): string {
    const name = this.#st.values.get(ssa) ?? this.#st.values.get(`${ssa}#0`);
    if (name !== undefined) return name;
    const why = this.#st.unavailable.get(ssa);
    if (why !== undefined) this.unsupported(`reads ${ssa}, ${why}`);
    return this.fail(`uses ${ssa} before it is defined`);
  }

  tensorType(ssa: string): MlirTensorType {
    const t = this.#st.types.get(ssa) ?? this.#st.types.get(`${ssa}#0`);
    if (!t || t.shape === null) return this.fail(`operand ${ssa} needs a ranked tensor type`);
    return t;
  }

  rank(ssa: string): number {
    return (this.tensorType(ssa).shape as readonly number[]).length;
  }

  isConstant(ssa: string): boolean {
    return this.#st.constants.has(ssa);
  }

  /** IR value name for result `index` of this op: the graph output it feeds, or a fresh name. */
  result(index = 0): string {
    const ssa = this.op.results[index];
    if (ssa === undefined) this.fail(`has no result ${index}`);
    const claimed = this.#st.outputClaims.get(ssa);
    const lbn = this.attrs.strings('output_lbns')?.[index];
    const name = claimed ?? this.#st.freshValue(lbn || `${this.#base}/out_${index}`);
    if (claimed) this.#st.reserveValue(claimed);
    this.#st.values.set(ssa, name);
    const t = asTensorType(this.op.resultTypes[index]);
    if (t) this.#st.types.set(ssa, t);
    return name;
  }

  /** Marks result `index` as not computed, so a reader gets a clear error. */
  resultUnavailable(index: number, why: string): void {
    const ssa = this.op.results[index];
    if (ssa !== undefined) this.#st.unavailable.set(ssa, why);
  }

  /** A fresh value name for an intermediate this op needs. */
  temp(suffix: string): string {
    return this.#st.freshValue(`${this.#base}/${suffix}`);
  }

  emit(op: string, inputs: readonly string[], outputs: readonly string[], attrs: Record<string, Attr> = {}, suffix?: string): void {
    const name = this.#st.freshNode(suffix ? `${this.#base}/${suffix}` : this.#base);
    this.#st.nodes.push({ op, name, inputs, outputs, attrs });
  }

  /** Emits `op` into a fresh temporary and returns its name. */
  emitTemp(op: string, inputs: readonly string[], attrs: Record<string, Attr>, suffix: string): string {
    const out = this.temp(suffix);
    this.emit(op, inputs, [out], attrs, suffix);
    return out;
  }

  constInt64(suffix: string, values: readonly number[], shape: readonly number[] = [values.length]): string {
    return this.#constant(suffix, 'INT64', shape, int64Bytes(values));
  }

  constScalar(suffix: string, value: number, dtype: WireDatatype): string {
    const data = new Uint8Array(dtype === 'FP64' ? 8 : 4);
    const view = new DataView(data.buffer);
    if (dtype === 'FP64') view.setFloat64(0, value, true);
    else if (dtype === 'FP32') view.setFloat32(0, value, true);
    else this.unsupported(`scaling a ${dtype} tensor`);
    return this.#constant(suffix, dtype, [], data);
  }

  #constant(suffix: string, dtype: WireDatatype, shape: readonly number[], data: Uint8Array): string {
    const name = this.#st.freshValue(`${this.#base}/${suffix}`);
    this.#st.initializers.push({ name, dtype, shape: [...shape], data });
    return name;
  }
}
