import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../../src/core/config/model-config.js';
import { checkLabels, type LabelFileFacts } from '../../../../src/core/repository/label-rules.js';

const ctx = { model: 'm', file: 'm/config.pbtxt' };
const config: ModelConfig = {
  max_batch_size: 8,
  output: [{ name: 'OUTPUT_0', data_type: 'TYPE_FP32', dims: [1000], label_filename: 'labels.txt' }],
};
const facts = (f: Partial<LabelFileFacts>) => new Map([['OUTPUT_0', { file: 'm/labels.txt', count: 1000, ...f }]]);

describe('checkLabels', () => {
  it('accepts one label per class', () => {
    expect(checkLabels(config, facts({}), ctx)).toEqual([]);
  });

  it('warns about a label count that differs from the class dimension (Triton does not check it)', () => {
    expect(checkLabels(config, facts({ count: 999 }), ctx)).toEqual([
      {
        severity: 'warning',
        file: 'm/labels.txt',
        field: 'output[0].label_filename',
        message: "m/labels.txt has 999 labels, but output 'OUTPUT_0' has 1000 classes (the last of its dims [1000]): class 999 is answered without a label",
        fix: 'write 1000 lines, line i naming class i',
      },
    ]);
    expect(checkLabels(config, facts({ count: 1001 }), ctx)[0].message).toContain('the last label is never used');
  });

  it('makes the mismatch an error with --strict', () => {
    expect(checkLabels(config, facts({ count: 999 }), ctx, { strict: true })).toEqual([expect.objectContaining({ severity: 'error' })]);
    expect(checkLabels(config, facts({}), ctx, { strict: true })).toEqual([]);
  });

  it('takes the class dimension as the last dim', () => {
    const c: ModelConfig = { output: [{ name: 'OUTPUT_0', dims: [7, 5], label_filename: 'l.txt' }] };
    expect(checkLabels(c, facts({ count: 5 }), ctx)).toEqual([]);
    expect(checkLabels(c, facts({ count: 7 }), ctx)).toHaveLength(1);
  });

  it('leaves a variable class dimension and unread files alone', () => {
    const c: ModelConfig = { output: [{ name: 'OUTPUT_0', dims: [-1], label_filename: 'l.txt' }] };
    expect(checkLabels(c, facts({ count: 3 }), ctx)).toEqual([]);
    expect(checkLabels(config, new Map(), ctx)).toEqual([]);
  });
});
