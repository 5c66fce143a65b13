import { ofsError } from '../../../errors.js';
import type { WireDatatype } from '../../tensor/dtype.js';
import type { MlirAttr, MlirOp, MlirTensorType, MlirType } from './mlir-ast.js';

/**
 * Typed access to one op's attributes. Each OneFlow version prints the same value in another shape
 * (`[1 : si32]` vs `array<i32: 1>` vs `dense<1> : vector<1xi32>`), so accessors accept every shape
 * and report a wrong or missing attribute with the op's name and position.
 */
export class OpAttrs {
  readonly #op: MlirOp;
  readonly #file: string;

  constructor(op: MlirOp, file: string) {
    this.#op = op;
    this.#file = file;
  }

  has(name: string): boolean {
    return this.#op.attrs.has(name);
  }

  /** The op's `op_name`, or '' when it was printed without one. */
  opName(): string {
    const a = this.#op.attrs.get('op_name');
    return a?.kind === 'string' ? a.value : '';
  }

  fail(what: string): never {
    const label = this.opName() ? ` (op_name '${this.opName()}')` : '';
    throw ofsError('OFS_MLIR_SYNTAX', this.#file, this.#op.line, this.#op.column, `"${this.#op.name}"${label}: ${what}`);
  }

  #get(name: string): MlirAttr | undefined {
    return this.#op.attrs.get(name);
  }

  int(name: string, fallback?: number): number {
    const a = this.#get(name);
    if (a === undefined && fallback !== undefined) return fallback;
    if (a?.kind === 'int') return a.value;
    return this.fail(`attribute '${name}' must be an integer`);
  }

  float(name: string, fallback?: number): number {
    const a = this.#get(name);
    if (a === undefined && fallback !== undefined) return fallback;
    if (a?.kind === 'float' || a?.kind === 'int') return a.value;
    return this.fail(`attribute '${name}' must be a number`);
  }

  bool(name: string, fallback?: boolean): boolean {
    const a = this.#get(name);
    if (a === undefined && fallback !== undefined) return fallback;
    if (a?.kind === 'bool') return a.value;
    if (a?.kind === 'unit') return true;
    if (a?.kind === 'int') return a.value !== 0;
    return this.fail(`attribute '${name}' must be true or false`);
  }

  string(name: string, fallback?: string): string {
    const a = this.#get(name);
    if (a === undefined && fallback !== undefined) return fallback;
    if (a?.kind === 'string') return a.value;
    return this.fail(`attribute '${name}' must be a string`);
  }

  strings(name: string): string[] | undefined {
    const a = this.#get(name);
    if (a?.kind !== 'array') return undefined;
    return a.value.map((x) => (x.kind === 'string' ? x.value : ''));
  }

  /** An integer list in any printed form; a splat `dense<v>` is expanded to its vector length. */
  ints(name: string, fallback?: readonly number[]): number[] {
    const a = this.#get(name);
    if (a === undefined && fallback !== undefined) return [...fallback];
    const list = a === undefined ? undefined : intList(a);
    if (list === undefined) return this.fail(`attribute '${name}' must be a list of integers`);
    return list;
  }

  intsOrUndefined(name: string): number[] | undefined {
    return this.has(name) ? this.ints(name) : undefined;
  }
}

/** Integer-list attributes are shapes, strides, perms: a splat longer than this is not one of them. */
const MAX_SPLAT_ELEMENTS = 4096;

export function intList(a: MlirAttr): number[] | undefined {
  switch (a.kind) {
    case 'array':
      return a.value.every((x) => x.kind === 'int') ? a.value.map((x) => (x as { value: number }).value) : undefined;
    case 'dense_array':
      return [...a.value];
    case 'dense': {
      if (!a.value.every((x) => x.kind === 'int')) return undefined;
      const vals = a.value.map((x) => (x as { value: number }).value);
      if (!a.splat) return vals;
      const n = a.type.kind === 'other' ? /^(?:vector|tensor)<([0-9]+)x/.exec(a.type.text)?.[1] : a.type.shape?.[0]?.toString();
      // The count comes from the text: a splat claiming 2^32 elements must not allocate them.
      const count = Number(n);
      if (n === undefined || !Number.isSafeInteger(count) || count > MAX_SPLAT_ELEMENTS) return undefined;
      return new Array<number>(count).fill(vals[0] as number);
    }
    case 'int':
      return [a.value];
    default:
      return undefined;
  }
}

const ELEM_TO_WIRE: Readonly<Record<string, WireDatatype>> = {
  f16: 'FP16', bf16: 'BF16', f32: 'FP32', f64: 'FP64',
  i1: 'BOOL',
  i8: 'INT8', si8: 'INT8', ui8: 'UINT8',
  i16: 'INT16', si16: 'INT16', ui16: 'UINT16',
  i32: 'INT32', si32: 'INT32', ui32: 'UINT32',
  i64: 'INT64', si64: 'INT64', ui64: 'UINT64',
};

const WIRE_TO_ELEM: Readonly<Partial<Record<WireDatatype, string>>> = {
  FP16: 'f16', BF16: 'bf16', FP32: 'f32', FP64: 'f64', BOOL: 'i1',
  INT8: 'i8', UINT8: 'ui8', INT16: 'i16', UINT16: 'ui16', INT32: 'i32', UINT32: 'ui32', INT64: 'i64', UINT64: 'ui64',
};

export function elemToWire(elem: string): WireDatatype | undefined {
  return ELEM_TO_WIRE[elem];
}

export function wireToElem(dtype: WireDatatype): string | undefined {
  return WIRE_TO_ELEM[dtype];
}

export function asTensorType(t: MlirType | undefined): MlirTensorType | undefined {
  return t?.kind === 'tensor' ? t : undefined;
}

/** Prints a tensor type the way MLIR does: `tensor<1x3xf32>`, `tensor<i64>`. */
export function formatTensorType(shape: readonly number[], elem: string): string {
  const dims = shape.map((d) => (d < 0 ? '?' : String(d)));
  return `tensor<${[...dims, elem].join('x')}>`;
}
