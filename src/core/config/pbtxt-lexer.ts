import { ofsError } from '../../errors.js';

/**
 * Tokens of protobuf text format. The lexer is eager (config files are small) and keeps 1-based
 * line/column of every token so the parser can point at the offending one.
 */

export type TokenKind = 'ident' | 'int' | 'float' | 'string' | 'symbol' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Source text; for strings the decoded value instead. */
  readonly text: string;
  readonly line: number;
  readonly column: number;
}

const SYMBOLS = new Set([':', '{', '}', '<', '>', '[', ']', ',', ';', '-']);
const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
// Decimal/octal/hex integers and floats with an optional exponent and `f` suffix, as the protobuf
// tokenizer accepts them; a letter glued to the end is caught afterwards.
const NUMBER = /0[xX][0-9A-Fa-f]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fF]?/y;
const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  n: 0x0a, t: 0x09, r: 0x0d, a: 0x07, b: 0x08, f: 0x0c, v: 0x0b, '\\': 0x5c, "'": 0x27, '"': 0x22, '?': 0x3f,
};

export function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  // A byte-order mark (some Windows editors write one) is not part of the text.
  let pos = text.startsWith('\uFEFF') ? 1 : 0;
  let line = 1;
  let lineStart = pos;
  const fail = (at: number, what: string): never => {
    throw ofsError('OFS_CONFIG_SYNTAX', file, line, at - lineStart + 1, what);
  };

  while (pos < text.length) {
    const c = text[pos];
    if (c === '\n') {
      pos++;
      line++;
      lineStart = pos;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      pos++;
      continue;
    }
    if (c === '#') {
      while (pos < text.length && text[pos] !== '\n') pos++;
      continue;
    }
    const column = pos - lineStart + 1;
    if (IDENT_START.test(c)) {
      const start = pos;
      while (pos < text.length && IDENT_PART.test(text[pos])) pos++;
      tokens.push({ kind: 'ident', text: text.slice(start, pos), line, column });
      continue;
    }
    if (/\d/.test(c) || (c === '.' && /\d/.test(text[pos + 1] ?? ''))) {
      NUMBER.lastIndex = pos;
      const m = NUMBER.exec(text);
      const raw = m ? m[0] : c;
      const end = pos + raw.length;
      if (end < text.length && /[A-Za-z0-9_.]/.test(text[end])) {
        let stop = end;
        while (stop < text.length && /[A-Za-z0-9_.]/.test(text[stop])) stop++;
        fail(pos, `invalid number '${text.slice(pos, stop)}'`);
      }
      const isFloat = !/^0[xX]/.test(raw) && /[.eEfF]/.test(raw);
      tokens.push({ kind: isFloat ? 'float' : 'int', text: raw, line, column });
      pos = end;
      continue;
    }
    if (c === '"' || c === "'") {
      const { value, end } = readString(text, pos, (at, what) => fail(at, what));
      tokens.push({ kind: 'string', text: value, line, column });
      pos = end;
      continue;
    }
    if (SYMBOLS.has(c)) {
      tokens.push({ kind: 'symbol', text: c, line, column });
      pos++;
      continue;
    }
    fail(pos, `unexpected character '${c}'`);
  }
  tokens.push({ kind: 'eof', text: '', line, column: pos - lineStart + 1 });
  return tokens;
}

/**
 * Reads one quoted literal starting at `start` (the quote). Escapes produce bytes, as in C, so a
 * string written as octal/hex escapes of UTF-8 decodes to the same text as the characters themselves.
 */
function readString(
  text: string,
  start: number,
  fail: (at: number, what: string) => never,
): { value: string; end: number } {
  const quote = text[start];
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  let pos = start + 1;
  for (;;) {
    if (pos >= text.length || text[pos] === '\n') fail(start, 'unterminated string');
    const c = text[pos];
    if (c === quote) break;
    if (c !== '\\') {
      const cp = text.codePointAt(pos) as number;
      const ch = String.fromCodePoint(cp);
      bytes.push(...encoder.encode(ch));
      pos += ch.length;
      continue;
    }
    const e = text[pos + 1] ?? '';
    if (e === '' || e === '\n') fail(start, 'unterminated string');
    if (e in SIMPLE_ESCAPES) {
      bytes.push(SIMPLE_ESCAPES[e]);
      pos += 2;
    } else if (/[0-7]/.test(e)) {
      const digits = /^[0-7]{1,3}/.exec(text.slice(pos + 1, pos + 4))![0];
      const v = parseInt(digits, 8);
      if (v > 0xff) fail(pos, `octal escape '\\${digits}' is larger than a byte`);
      bytes.push(v);
      pos += 1 + digits.length;
    } else if (e === 'x' || e === 'X') {
      const m = /^[0-9A-Fa-f]{1,2}/.exec(text.slice(pos + 2, pos + 4));
      if (!m) fail(pos, "'\\x' must be followed by a hex digit");
      bytes.push(parseInt(m![0], 16));
      pos += 2 + m![0].length;
    } else if (e === 'u' || e === 'U') {
      const n = e === 'u' ? 4 : 8;
      const hex = text.slice(pos + 2, pos + 2 + n);
      const cp = /^[0-9A-Fa-f]+$/.test(hex) && hex.length === n ? parseInt(hex, 16) : NaN;
      if (!(cp <= 0x10ffff) || (cp >= 0xd800 && cp <= 0xdfff)) fail(pos, `'\\${e}' must be followed by ${n} hex digits of a Unicode code point`);
      bytes.push(...encoder.encode(String.fromCodePoint(cp)));
      pos += 2 + n;
    } else {
      fail(pos, `unknown escape '\\${e}' in string`);
    }
  }
  let value: string;
  try {
    value = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    fail(start, 'string is not valid UTF-8 once its escapes are decoded');
  }
  return { value: value!, end: pos + 1 };
}

/** A token as error messages quote it. */
export function describe(t: Token): string {
  if (t.kind === 'eof') return 'end of file';
  if (t.kind === 'string') return JSON.stringify(t.text.length > 40 ? `${t.text.slice(0, 40)}…` : t.text);
  return `'${t.text}'`;
}
