import { describe, expect, it } from 'vitest';
import { tokenize } from '../../../../src/core/config/pbtxt-lexer.js';
import { isOfsError } from '../../../../src/errors.js';

function lexError(text: string): string {
  try {
    tokenize(text, 'c.pbtxt');
  } catch (e) {
    if (isOfsError(e) && e.code === 'OFS_CONFIG_SYNTAX') return e.message;
    throw e;
  }
  throw new Error('expected a syntax error');
}

describe('tokenize', () => {
  it('gives kinds and 1-based positions, skipping comments', () => {
    const toks = tokenize('# head\nname: "x" # tail\n  dims: [-1, 0x10]', 'c');
    expect(toks.map((t) => [t.kind, t.text, t.line, t.column])).toEqual([
      ['ident', 'name', 2, 1],
      ['symbol', ':', 2, 5],
      ['string', 'x', 2, 7],
      ['ident', 'dims', 3, 3],
      ['symbol', ':', 3, 7],
      ['symbol', '[', 3, 9],
      ['symbol', '-', 3, 10],
      ['int', '1', 3, 11],
      ['symbol', ',', 3, 12],
      ['int', '0x10', 3, 14],
      ['symbol', ']', 3, 18],
      ['eof', '', 3, 19],
    ]);
  });

  it('skips a leading byte-order mark without shifting columns', () => {
    expect(tokenize('\uFEFFname', 'c')[0]).toEqual({ kind: 'ident', text: 'name', line: 1, column: 1 });
  });

  it('tells integers from floats', () => {
    expect(tokenize('1 1.5 .5 2e3 3f 017 0X1f', 'c').slice(0, -1).map((t) => `${t.kind}:${t.text}`)).toEqual([
      'int:1', 'float:1.5', 'float:.5', 'float:2e3', 'float:3f', 'int:017', 'int:0X1f',
    ]);
  });

  it('decodes C escapes in both quote styles', () => {
    const [a, b] = tokenize(String.raw`"a\"b\n\t\\" 'it\'s \x41\101\u00e9'`, 'c');
    expect(a.text).toBe('a"b\n\t\\');
    expect(b.text).toBe("it's AAé");
  });

  it('decodes escaped UTF-8 bytes as the characters they encode', () => {
    // é is C3 A9 in UTF-8.
    expect(tokenize(String.raw`"\303\251 \xc3\xa9"`, 'c')[0].text).toBe('é é');
    expect(tokenize('"日本"', 'c')[0].text).toBe('日本');
  });

  it('reports lexical errors at the offending position', () => {
    expect(lexError('name: "abc\nx: 1')).toBe('c.pbtxt:1:7: unterminated string');
    expect(lexError("  label: 'abc")).toBe('c.pbtxt:1:10: unterminated string');
    expect(lexError('a: 1\nb: "x\\q"')).toBe("c.pbtxt:2:6: unknown escape '\\q' in string");
    expect(lexError('a: 12ab')).toBe("c.pbtxt:1:4: invalid number '12ab'");
    expect(lexError('a: 1\n  b: @')).toBe("c.pbtxt:2:6: unexpected character '@'");
    expect(lexError('"\\xff"')).toBe('c.pbtxt:1:1: string is not valid UTF-8 once its escapes are decoded');
  });
});
