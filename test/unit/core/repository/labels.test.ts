import { describe, expect, it } from 'vitest';
import { hasCrlf, readLabels } from '../../../../src/core/repository/labels.js';

describe('readLabels', () => {
  it('gives one label per line, a trailing newline adding none', () => {
    expect(readLabels('cat\ndog\n')).toEqual(['cat', 'dog']);
    expect(readLabels('cat\ndog')).toEqual(['cat', 'dog']);
  });

  it('keeps empty lines in the middle, since line i names class i', () => {
    expect(readLabels('a\n\nc\n')).toEqual(['a', '', 'c']);
  });

  it("keeps a Windows '\\r' in the label, as Triton's getline does", () => {
    expect(readLabels('cat\r\ndog\r\n')).toEqual(['cat\r', 'dog\r']);
  });

  it('reads an empty file as no labels', () => {
    expect(readLabels('')).toEqual([]);
  });
});

describe('hasCrlf', () => {
  it('spots Windows line endings', () => {
    expect(hasCrlf('a\r\nb')).toBe(true);
    expect(hasCrlf('a\nb\r')).toBe(true);
    expect(hasCrlf('a\nb\n')).toBe(false);
  });
});
