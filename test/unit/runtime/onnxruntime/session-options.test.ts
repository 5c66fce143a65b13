import { describe, expect, it } from 'vitest';
import { sessionOptionsOf } from '../../../../src/runtime/onnxruntime/session-options.js';

describe('sessionOptionsOf', () => {
  it('keeps every onnxruntime thread from spinning by default', () => {
    const options = sessionOptionsOf({ intraOpThreads: 2 });
    expect(options.intraOpNumThreads).toBe(2);
    expect(options.interOpNumThreads).toBe(1);
    expect(options.extra).toEqual({ session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } });
  });

  it('lets the intra-op threads spin only during runs when the model asks', () => {
    expect(sessionOptionsOf({ intraOpThreads: 2, spinning: true }).extra).toEqual({
      session: { intra_op: { allow_spinning: '1' }, inter_op: { allow_spinning: '0' }, force_spinning_stop: '1' },
    });
    expect(sessionOptionsOf({ intraOpThreads: 2, spinning: false }).extra).toEqual(sessionOptionsOf({ intraOpThreads: 2 }).extra);
  });
});
