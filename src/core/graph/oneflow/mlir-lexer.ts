import { ofsError } from '../../../errors.js';

/**
 * A pull lexer for the MLIR subset OneFlow prints. Types and dialect attributes (`tensor<1x3xf32>`,
 * `#sbp.parallel<[] -> [#sbp.B]>`) are not tokenized: their bodies follow their own little grammars,
 * so the parser asks for the raw text between balanced brackets instead.
 */

export type TokenKind =
  | 'percent' // %name, %name#1
  | 'at' // @symbol
  | 'hash' // #dialect.attr
  | 'bang' // !dialect.type
  | 'ident' // bare identifier (may contain dots): oneflow.job, si64, true
  | 'int'
  | 'float'
  | 'string'
  | 'punct'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Source text, except for strings where it is the unescaped value. */
  readonly text: string;
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

const PUNCT = new Set(['(', ')', '{', '}', '[', ']', '<', '>', ',', ':', '=', '?', '*', '+', '-']);
const isIdStart = (c: string): boolean => /[A-Za-z_]/.test(c);
const isIdChar = (c: string): boolean => /[A-Za-z0-9_$.]/.test(c);
const isSuffixChar = (c: string): boolean => /[A-Za-z0-9_$.\-]/.test(c);

export class MlirLexer {
  readonly #src: string;
  readonly #file: string;
  #pos = 0;
  #line = 1;
  #lineStart = 0;
  #peeked: Token | null = null;

  constructor(source: string, file: string) {
    this.#src = source;
    this.#file = file;
  }

  get file(): string {
    return this.#file;
  }

  peek(): Token {
    this.#peeked ??= this.#lex();
    return this.#peeked;
  }

  next(): Token {
    const t = this.peek();
    this.#peeked = null;
    return t;
  }

  /** Throws OFS_MLIR_SYNTAX at the token (or the current position). */
  fail(what: string, at?: { line: number; column: number }): never {
    const where = at ?? this.peek();
    throw ofsError('OFS_MLIR_SYNTAX', this.#file, where.line, where.column, what);
  }

  /**
   * The raw text between a `<` (the next non-blank character) and its matching `>`, brackets excluded.
   * Strings are skipped whole and `->` does not close a bracket.
   */
  rawAngle(): string {
    return this.#rawBalanced('<', '>');
  }

  /** Like rawAngle, for `(` … `)` (used to skip `loc(...)`). */
  rawParen(): string {
    return this.#rawBalanced('(', ')');
  }

  #rawBalanced(open: string, close: string): string {
    this.#rewindPeek();
    this.#skipBlank();
    const start = this.#position();
    if (this.#src[this.#pos] !== open) this.fail(`expected '${open}'`, start);
    let depth = 0;
    const bodyStart = this.#pos + 1;
    while (this.#pos < this.#src.length) {
      const c = this.#src[this.#pos] as string;
      if (c === '"') {
        this.#lexString();
        continue;
      }
      if (c === open) depth++;
      else if (c === close && !(close === '>' && this.#src[this.#pos - 1] === '-')) {
        depth--;
        if (depth === 0) {
          const body = this.#src.slice(bodyStart, this.#pos);
          this.#advance(1);
          return body;
        }
      }
      this.#advance(1);
    }
    return this.fail(`unterminated '${open}'`, start);
  }

  #rewindPeek(): void {
    if (!this.#peeked) return;
    this.#pos = this.#peeked.offset;
    this.#line = this.#peeked.line;
    this.#lineStart = this.#peeked.offset - (this.#peeked.column - 1);
    this.#peeked = null;
  }

  #position(): { offset: number; line: number; column: number } {
    return { offset: this.#pos, line: this.#line, column: this.#pos - this.#lineStart + 1 };
  }

  #advance(n: number): void {
    for (let i = 0; i < n; i++) {
      if (this.#src[this.#pos] === '\n') {
        this.#line++;
        this.#lineStart = this.#pos + 1;
      }
      this.#pos++;
    }
  }

  #skipBlank(): void {
    for (;;) {
      const c = this.#src[this.#pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.#advance(1);
      else if (c === '/' && this.#src[this.#pos + 1] === '/') {
        while (this.#pos < this.#src.length && this.#src[this.#pos] !== '\n') this.#advance(1);
      } else return;
    }
  }

  #lex(): Token {
    this.#skipBlank();
    const start = this.#position();
    const tok = (kind: TokenKind, text: string): Token => ({ kind, text, ...start });
    const src = this.#src;
    if (this.#pos >= src.length) return tok('eof', '');
    const c = src[this.#pos] as string;

    if (c === '"') return tok('string', this.#lexString());
    if (c === '-' && src[this.#pos + 1] === '>') {
      this.#advance(2);
      return tok('punct', '->');
    }
    if (c === '%' || c === '@' || c === '#' || c === '!') {
      const kind: TokenKind = c === '%' ? 'percent' : c === '@' ? 'at' : c === '#' ? 'hash' : 'bang';
      if (c === '@' && src[this.#pos + 1] === '"') {
        this.#advance(1);
        return tok('at', `@${this.#lexString()}`);
      }
      let end = this.#pos + 1;
      while (end < src.length && isSuffixChar(src[end] as string)) end++;
      // `%0#1` names result 1 of a packed group.
      if (c === '%' && src[end] === '#' && /[0-9]/.test(src[end + 1] ?? '')) {
        end++;
        while (end < src.length && /[0-9]/.test(src[end] as string)) end++;
      }
      if (end === this.#pos + 1) this.fail(`expected a name after '${c}'`, start);
      const text = src.slice(this.#pos, end);
      this.#advance(end - this.#pos);
      return tok(kind, text);
    }
    if (/[0-9]/.test(c)) return this.#lexNumber(start);
    if (isIdStart(c)) {
      let end = this.#pos + 1;
      while (end < src.length && isIdChar(src[end] as string)) end++;
      const text = src.slice(this.#pos, end);
      this.#advance(end - this.#pos);
      return tok('ident', text);
    }
    if (PUNCT.has(c)) {
      this.#advance(1);
      return tok('punct', c);
    }
    return this.fail(`unexpected character '${c}'`, start);
  }

  #lexNumber(start: { offset: number; line: number; column: number }): Token {
    const rest = this.#src.slice(this.#pos, this.#pos + 64);
    const hex = /^0x[0-9a-fA-F]+/.exec(rest);
    const float = /^[0-9]+\.[0-9]*([eE][-+]?[0-9]+)?/.exec(rest);
    const int = /^[0-9]+/.exec(rest) as RegExpExecArray;
    const [kind, text] = hex ? (['int', hex[0]] as const) : float ? (['float', float[0]] as const) : (['int', int[0]] as const);
    this.#advance(text.length);
    return { kind, text, ...start };
  }

  /** Reads a string literal at the cursor and returns its value. */
  #lexString(): string {
    const start = this.#position();
    this.#advance(1);
    let out = '';
    while (this.#pos < this.#src.length) {
      const c = this.#src[this.#pos] as string;
      if (c === '"') {
        this.#advance(1);
        return out;
      }
      if (c === '\n') break;
      if (c === '\\') {
        const e = this.#src[this.#pos + 1] ?? '';
        if (e === 'n') out += '\n';
        else if (e === 't') out += '\t';
        else if (e === '"' || e === '\\') out += e;
        else if (/[0-9a-fA-F]{2}/.test(this.#src.slice(this.#pos + 1, this.#pos + 3))) {
          out += String.fromCharCode(parseInt(this.#src.slice(this.#pos + 1, this.#pos + 3), 16));
          this.#advance(3);
          continue;
        } else this.fail(`bad escape '\\${e}' in string`, this.#position());
        this.#advance(2);
        continue;
      }
      out += c;
      this.#advance(1);
    }
    return this.fail('unterminated string', start);
  }
}
