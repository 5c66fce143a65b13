import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OfsError } from '../../../../src/errors.js';
import { resolveInsideModelDir } from '../../../../src/core/repository/paths.js';

const dir = path.resolve('/store/m');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof OfsError ? e.code : 'not an OfsError';
  }
  return undefined;
}

describe('resolveInsideModelDir', () => {
  it('resolves paths inside the model folder', () => {
    expect(resolveInsideModelDir(dir, 'labels.txt')).toBe(path.join(dir, 'labels.txt'));
    expect(resolveInsideModelDir(dir, 'sub/../labels.txt')).toBe(path.join(dir, 'labels.txt'));
    expect(resolveInsideModelDir(dir, '1/model.onnx')).toBe(path.join(dir, '1', 'model.onnx'));
  });

  it('refuses paths that leave the folder', () => {
    for (const p of ['../other/labels.txt', '..', 'a/../../x', '/etc/passwd', '']) {
      expect(codeOf(() => resolveInsideModelDir(dir, p)), p).toBe('OFS_PATH_ESCAPES');
    }
  });

  it('does not mistake a sibling folder sharing the prefix for the model folder', () => {
    expect(codeOf(() => resolveInsideModelDir(dir, '../m2/labels.txt'))).toBe('OFS_PATH_ESCAPES');
  });

  it("names the path in Triton's words", () => {
    expect(() => resolveInsideModelDir(dir, '../x')).toThrow('../x is outside model directory');
  });
});
