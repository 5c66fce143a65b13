import { describe, type Token } from './pbtxt-lexer.js';
import type { Slot } from './pbtxt-schema.js';

/** What scalar parsing needs from the parser: one-token lookahead and positioned errors. */
export interface TokenCursor {
  peek(): Token;
  next(): Token;
  fail(at: Token, what: string): never;
}

const INT_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  // 64-bit fields become JS numbers in the plain shape, so they stop where numbers stay exact.
  int64: [-BigInt(Number.MAX_SAFE_INTEGER), BigInt(Number.MAX_SAFE_INTEGER)],
  sint64: [-BigInt(Number.MAX_SAFE_INTEGER), BigInt(Number.MAX_SAFE_INTEGER)],
  sfixed64: [-BigInt(Number.MAX_SAFE_INTEGER), BigInt(Number.MAX_SAFE_INTEGER)],
  uint64: [0n, BigInt(Number.MAX_SAFE_INTEGER)],
  fixed64: [0n, BigInt(Number.MAX_SAFE_INTEGER)],
};

const TRUE = new Set(['true', 'True', 't']);
const FALSE = new Set(['false', 'False', 'f']);

/** One scalar value (string, number, bool or enum name) of `slot`, consuming its tokens. */
export function parseScalar(c: TokenCursor, slot: Slot, where: string): string | number | boolean {
  if (slot.enumType) return parseEnum(c, slot, where);
  if (slot.type === 'string' || slot.type === 'bytes') return parseString(c, where);
  if (slot.type === 'bool') return parseBool(c, where);
  if (slot.type === 'float' || slot.type === 'double') return parseFloatValue(c, where);
  return parseInteger(c, slot.type, where);
}

/** Adjacent literals concatenate, as in C: `"a" 'b'` is "ab". */
function parseString(c: TokenCursor, where: string): string {
  const t = c.next();
  if (t.kind !== 'string') c.fail(t, `${where} expects a quoted string, found ${describe(t)}`);
  let s = t.text;
  while (c.peek().kind === 'string') s += c.next().text;
  return s;
}

function parseBool(c: TokenCursor, where: string): boolean {
  const t = c.next();
  if ((t.kind === 'ident' || t.kind === 'int') && (TRUE.has(t.text) || t.text === '1')) return true;
  if ((t.kind === 'ident' || t.kind === 'int') && (FALSE.has(t.text) || t.text === '0')) return false;
  return c.fail(t, `${where} expects true or false, found ${describe(t)}`);
}

/** An optional '-' then the number token; returns the sign and the token. */
function signed(c: TokenCursor): { negative: boolean; token: Token; start: Token } {
  const start = c.next();
  if (start.kind === 'symbol' && start.text === '-') return { negative: true, token: c.next(), start };
  return { negative: false, token: start, start };
}

function parseInteger(c: TokenCursor, type: string, where: string): number {
  const { negative, token, start } = signed(c);
  if (token.kind === 'float') c.fail(token, `${where} expects an integer (${type}), found ${describe(token)}`);
  if (token.kind !== 'int') c.fail(token, `${where} expects an integer (${type}), found ${describe(token)}`);
  const magnitude = integerValue(token.text);
  if (magnitude === undefined) c.fail(token, `invalid integer ${describe(token)}`);
  const value = negative ? -magnitude! : magnitude!;
  const [lo, hi] = INT_RANGES[type] ?? INT_RANGES.int64;
  if (value < lo || value > hi) c.fail(start, `${value} is out of range for ${where} (${type}: ${lo} to ${hi})`);
  return Number(value);
}

/** Decimal, 0x hex or leading-0 octal, as protobuf's tokenizer reads integers. */
function integerValue(text: string): bigint | undefined {
  if (/^0[xX][0-9A-Fa-f]+$/.test(text)) return BigInt(text);
  if (/^0[0-7]+$/.test(text)) return BigInt(`0o${text.slice(1)}`);
  if (/^(0|[1-9]\d*)$/.test(text)) return BigInt(text);
  return undefined;
}

function parseFloatValue(c: TokenCursor, where: string): number {
  const { negative, token } = signed(c);
  let v: number;
  if (token.kind === 'int') v = Number(integerValue(token.text) ?? NaN);
  else if (token.kind === 'float') v = Number(token.text.replace(/[fF]$/, ''));
  else if (token.kind === 'ident' && /^(inf|infinity)$/i.test(token.text)) v = Infinity;
  else if (token.kind === 'ident' && /^nan$/i.test(token.text)) v = NaN;
  else return c.fail(token, `${where} expects a number, found ${describe(token)}`);
  if (Number.isNaN(v) && token.kind !== 'ident') c.fail(token, `invalid number ${describe(token)}`);
  return negative ? -v : v;
}

function parseEnum(c: TokenCursor, slot: Slot, where: string): string {
  const e = slot.enumType!;
  const names = Object.keys(e.values);
  const { negative, token } = signed(c);
  const mustBe = `value for enum ${e.name} of ${where} must be one of ${names.join(', ')}`;
  if (token.kind === 'ident' && !negative) {
    if (Object.hasOwn(e.values, token.text)) return token.text;
    c.fail(token, `${mustBe}; found ${describe(token)}`);
  }
  if (token.kind === 'int') {
    const n = integerValue(token.text);
    const name = n === undefined ? undefined : e.valuesById[Number(negative ? -n : n)];
    if (name !== undefined) return name;
  }
  return c.fail(token, `${mustBe} (or its number); found ${negative ? "'-' " : ''}${describe(token)}`);
}
