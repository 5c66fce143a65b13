import { ofsError } from '../../../errors.js';

/**
 * Attribute values printed the way OneFlow's MLIR printer does, so a written model.mlir reads like
 * one OneFlow saved (and OneFlow's own parser would accept it).
 */
export type Printed = string & { readonly __printed: unique symbol };

const p = (s: string): Printed => s as Printed;

export const fmt = {
  str: (s: string): Printed => p(JSON.stringify(s)),
  bool: (b: boolean): Printed => p(b ? 'true' : 'false'),
  si32: (n: number): Printed => p(`${n} : si32`),
  si64: (n: number): Printed => p(`${n} : si64`),
  i32: (n: number): Printed => p(`${n} : i32`),
  i64: (n: number | bigint): Printed => p(`${n} : i64`),
  f32: (v: number): Printed => p(`${floatLiteral(Math.fround(v), 8)} : f32`),
  f64: (v: number): Printed => p(`${floatLiteral(v)} : f64`),
  si32s: (xs: readonly number[]): Printed => p(`[${xs.map((x) => `${x} : si32`).join(', ')}]`),
  si64s: (xs: readonly number[]): Printed => p(`[${xs.map((x) => `${x} : si64`).join(', ')}]`),
  strs: (xs: readonly string[]): Printed => p(`[${xs.map((x) => JSON.stringify(x)).join(', ')}]`),
  ints: (xs: readonly number[]): Printed => p(`[${xs.join(', ')}]`),
  /** DenseI32ArrayAttr, as recent MLIR prints segment sizes. */
  i32Array: (xs: readonly number[]): Printed => p(`array<i32: ${xs.join(', ')}>`),
};

/** An MLIR float literal: always with a decimal point, in exponent form. */
function floatLiteral(v: number, digits?: number): string {
  if (!Number.isFinite(v)) throw ofsError('OFS_GRAPH_INVALID', `cannot write the non-finite attribute value ${v}`);
  const s = digits === undefined ? v.toExponential() : v.toExponential(digits);
  const [mantissa, exp] = s.split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}e${exp}`;
}

/** `{a = 1, b = …}` with keys sorted, as MLIR prints attribute dictionaries. */
export function attrDict(attrs: Readonly<Record<string, Printed>>): string {
  const keys = Object.keys(attrs).sort();
  return `{${keys.map((k) => `${k} = ${attrs[k]}`).join(', ')}}`;
}
