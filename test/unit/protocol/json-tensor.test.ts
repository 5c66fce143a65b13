import { describe, expect, it } from 'vitest';
import { jsonDataToBytes, tensorToJsonText, tensorToJsonValues } from '../../../src/protocol/json-tensor.js';
import { parseBytesElements } from '../../../src/core/tensor/bytes.js';

describe('jsonDataToBytes', () => {
  it('accepts flat and nested data in row-major order', () => {
    const flat = jsonDataToBytes('X', 'INT32', [2, 2], [1, 2, 3, 4]);
    const nested = jsonDataToBytes('X', 'INT32', [2, 2], [[1, 2], [3, 4]]);
    expect(nested).toEqual(flat);
    expect(Array.from(new Int32Array(flat.buffer))).toEqual([1, 2, 3, 4]);
  });

  it('encodes BOOL as one byte, BYTES with length prefixes, INT64 from numbers', () => {
    expect(Array.from(jsonDataToBytes('B', 'BOOL', [3], [true, false, true]))).toEqual([1, 0, 1]);
    const s = jsonDataToBytes('S', 'BYTES', [2], ['hi', 'there']);
    expect(parseBytesElements(s)?.map((b) => Buffer.from(b).toString())).toEqual(['hi', 'there']);
    const i = jsonDataToBytes('I', 'INT64', [2], [-3, 2 ** 40]);
    expect(Array.from(new BigInt64Array(i.buffer))).toEqual([-3n, 2n ** 40n]);
    const f = jsonDataToBytes('F', 'FP64', [1], [0.1]);
    expect(new Float64Array(f.buffer)[0]).toBe(0.1);
  });

  it('checks the element count against the shape', () => {
    expect(() => jsonDataToBytes('X', 'FP32', [2, 2], [1, 2, 3])).toThrow(
      "Unable to parse 'data': Shape does not match true shape of 'data' field",
    );
  });

  it('rejects wrong element types, FP16 in JSON and unknown datatypes', () => {
    expect(() => jsonDataToBytes('X', 'FP32', [1], ['a'])).toThrow(/Unable to parse 'data'/);
    expect(() => jsonDataToBytes('X', 'UINT8', [1], [-1])).toThrow(/Unable to parse 'data'/);
    expect(() => jsonDataToBytes('X', 'BOOL', [1], [1])).toThrow(/Unable to parse 'data'/);
    expect(() => jsonDataToBytes('X', 'FP16', [1], [1])).toThrow(
      'receiving FP16 data via JSON is not supported. Please use the binary data format for input X',
    );
    expect(() => jsonDataToBytes('X', 'FP33', [1], [1])).toThrow('invalid datatype for input X');
  });
});

describe('tensor → JSON', () => {
  it('decodes every fixed-size type and BYTES', () => {
    expect(tensorToJsonValues('UINT16', new Uint8Array(Uint16Array.from([65535]).buffer))).toEqual([65535]);
    expect(tensorToJsonValues('BOOL', Uint8Array.from([0, 2]))).toEqual([false, true]);
    expect(tensorToJsonValues('FP16', new Uint8Array(Uint16Array.from([0x3c00, 0xc000]).buffer))).toEqual([1, -2]);
    expect(tensorToJsonValues('BF16', new Uint8Array(Uint16Array.from([0x3fc0]).buffer))).toEqual([1.5]);
  });

  it('writes a flat array and checks it against the shape', () => {
    const data = new Uint8Array(Float32Array.from([0.5, 2]).buffer);
    expect(tensorToJsonText({ name: 'o', datatype: 'FP32', shape: [1, 2], data })).toBe('[0.5,2]');
    expect(() => tensorToJsonText({ name: 'o', datatype: 'FP32', shape: [3], data })).toThrow(
      "output tensor shape does not match size of output for 'o'",
    );
  });
});
