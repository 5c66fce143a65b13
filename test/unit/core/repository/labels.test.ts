import { describe, expect, it } from 'vitest';
import { readLabels } from '../../../../src/core/repository/labels.js';

describe('readLabels', () => {
  it('gives one label per line, a trailing newline adding none', () => {
    expect(readLabels('cat\ndog\n')).toEqual(['cat', 'dog']);
    expect(readLabels('cat\ndog')).toEqual(['cat', 'dog']);
  });

  it('keeps empty lines in the middle, since line i names class i', () => {
    expect(readLabels('a\n\nc\n')).toEqual(['a', '', 'c']);
  });

  it('drops trailing blank lines, which are no classes', () => {
    expect(readLabels('cat\ndog\n\n\n')).toEqual(['cat', 'dog']);
    expect(readLabels('cat\ndog\n  \n\t\n')).toEqual(['cat', 'dog']);
  });

  it("reads a Windows file (CRLF) as the same labels, without '\\r'", () => {
    expect(readLabels('cat\r\ndog\r\n')).toEqual(['cat', 'dog']);
    expect(readLabels('cat\r\n\r\ndog\r\n\r\n')).toEqual(['cat', '', 'dog']);
  });

  it('reads an empty file as no labels', () => {
    expect(readLabels('')).toEqual([]);
    expect(readLabels('\n\n')).toEqual([]);
  });
});
