import { describe, expect, it } from 'vitest';
import { encodeInferRequest } from '../../../src/client/request-encoder.js';
import { inferInput } from '../../../src/client/infer-input.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('encodeInferRequest', () => {
  it('reproduces the OneFlow example client header byte for byte (197-byte JSON, 602309-byte body)', () => {
    const input = inferInput('INPUT_0', 'FP32', [1, 3, 224, 224], new Float32Array(3 * 224 * 224));
    const req = encodeInferRequest([input], { outputs: [{ name: 'OUTPUT_0', classCount: 3 }] });
    const expected =
      '{"inputs":[{"name":"INPUT_0","shape":[1,3,224,224],"datatype":"FP32","parameters":{"binary_data_size":602112}}],' +
      '"outputs":[{"name":"OUTPUT_0","parameters":{"classification":3,"binary_data":true}}]}';
    expect(expected.length).toBe(197);
    expect(req.headerLength).toBe(197);
    expect(text(req.body.subarray(0, 197))).toBe(expected);
    expect(req.body.byteLength).toBe(602309);
  });

  it('appends binary blocks in input order, BYTES length-prefixed', () => {
    const req = encodeInferRequest([
      inferInput('X', 'FP32', [1, 2], Float32Array.of(1.5, -2)),
      inferInput('S', 'BYTES', [2], ['ab', 'c']),
    ]);
    const tail = Array.from(req.body.subarray(req.headerLength));
    expect(tail).toEqual([0, 0, 0xc0, 0x3f, 0, 0, 0, 0xc0, 2, 0, 0, 0, 97, 98, 1, 0, 0, 0, 99]);
    // no outputs requested: every output back, binary
    expect(text(req.body.subarray(0, req.headerLength))).toBe(
      '{"inputs":[{"name":"X","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}},' +
        '{"name":"S","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":11}}],"parameters":{"binary_data_output":true}}',
    );
  });

  it('sends JSON data and no header length when nothing is binary; id comes first', () => {
    const req = encodeInferRequest([inferInput('I', 'INT32', [3], Int32Array.of(1, -2, 3), { binaryData: false })], {
      requestId: 'r1',
      outputs: [{ name: 'O', binaryData: false }],
    });
    expect(req.headerLength).toBeUndefined();
    expect(text(req.body)).toBe(
      '{"id":"r1","inputs":[{"name":"I","shape":[3],"datatype":"INT32","data":[1,-2,3]}],"outputs":[{"name":"O","parameters":{"binary_data":false}}]}',
    );
  });

  it('refuses inputs whose element count does not match the shape, or the wrong array type', () => {
    expect(() => inferInput('X', 'FP32', [2, 2], new Float32Array(3))).toThrow(/3 elements but shape \[2,2\] needs 4/);
    expect(() => inferInput('X', 'FP32', [2], Int32Array.of(1, 2))).toThrow(/Float32Array/);
  });
});
