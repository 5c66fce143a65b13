import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isOfsError } from '../../../../../src/errors.js';
import { formatVariableMeta, parseVariableMeta } from '../../../../../src/core/graph/oneflow/variable-meta.js';
import { oneflowFixture } from '../../../../fixtures/oneflow.js';

describe('parseVariableMeta', () => {
  it('reads the meta files OneFlow wrote', () => {
    const dir = oneflowFixture('affine_with_parameter');
    expect(parseVariableMeta(readFileSync(join(dir, 'model.a', 'meta'), 'utf8'), 'a')).toEqual({ shape: [3, 4], dataType: 2 });
    expect(parseVariableMeta(readFileSync(join(dir, 'model.b', 'meta'), 'utf8'), 'b')).toEqual({ shape: [4], dataType: 2 });
  });

  it('reads a 0-d variable with an empty shape block and with no shape at all', () => {
    expect(parseVariableMeta('shape {\n}\ndata_type: kInt64\n', 'x')).toEqual({ shape: [], dataType: 6 });
    expect(parseVariableMeta('data_type: kInt64\n', 'x')).toEqual({ shape: [], dataType: 6 });
  });

  it('accepts numeric enums, one-line text format, comments and unknown fields', () => {
    const text = '# saved by a test\nshape { dim: 2 dim: 5 } data_type: 3 initializer { constant_conf { value: 0 } } tags: "x"';
    expect(parseVariableMeta(text, 'x')).toEqual({ shape: [2, 5], dataType: 3 });
  });

  it('rejects an unknown data_type name and a non-integer dim', () => {
    for (const text of ['data_type: kQuaternion', 'shape { dim: x }']) {
      try {
        parseVariableMeta(text, 'v/meta');
        throw new Error('accepted');
      } catch (e) {
        expect(isOfsError(e) && e.code).toBe('OFS_VARIABLE_INVALID');
        expect((e as Error).message).toContain('v/meta');
      }
    }
  });
});

describe('formatVariableMeta', () => {
  it('prints exactly what OneFlow printed for the fixture', () => {
    const dir = oneflowFixture('affine_with_parameter');
    expect(formatVariableMeta([3, 4], 2)).toBe(readFileSync(join(dir, 'model.a', 'meta'), 'utf8'));
    expect(formatVariableMeta([4], 2)).toBe(readFileSync(join(dir, 'model.b', 'meta'), 'utf8'));
  });

  it('prints an empty shape block for a 0-d tensor, which reads back as shape []', () => {
    const text = formatVariableMeta([], 6);
    expect(text).toBe('shape {\n}\ndata_type: kInt64\n');
    expect(parseVariableMeta(text, 'x')).toEqual({ shape: [], dataType: 6 });
  });
});
