import { describe, expect, it } from 'vitest';
import { jsonDataToBytes } from '../../../src/protocol/json-tensor.js';
import { ChunkWriter, writeTensorJson } from '../../../src/protocol/json-writer.js';
import { serializeBytesElements } from '../../../src/core/tensor/bytes.js';
import type { WireDatatype } from '../../../src/core/tensor/dtype.js';
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

describe('tensor → JSON (writeTensorJson)', () => {
  const text = async (datatype: WireDatatype, data: Uint8Array, shape: number[]) => {
    const w = new ChunkWriter(1 << 20, () => {
      throw new Error('over');
    });
    await writeTensorJson(w, { name: 'o', datatype, shape, data });
    return Buffer.concat(w.finish()).toString();
  };

  it('writes every fixed-size type and BYTES', async () => {
    expect(await text('UINT16', new Uint8Array(Uint16Array.from([65535]).buffer), [1])).toBe('[65535]');
    expect(await text('BOOL', Uint8Array.from([0, 2]), [2])).toBe('[false,true]');
    expect(await text('FP16', new Uint8Array(Uint16Array.from([0x3c00, 0xc000]).buffer), [2])).toBe('[1,-2]');
    expect(await text('BF16', new Uint8Array(Uint16Array.from([0x3fc0]).buffer), [1])).toBe('[1.5]');
    expect(await text('UINT64', new Uint8Array(BigUint64Array.from([2n ** 64n - 1n]).buffer), [1])).toBe('[18446744073709551615]');
    expect(await text('INT8', new Uint8Array(Int8Array.from([-128, 127]).buffer), [2])).toBe('[-128,127]');
    expect(await text('BYTES', serializeBytesElements(['a"b', 'é']), [2])).toBe('["a\\"b","é"]');
    expect(await text('FP64', new Uint8Array(Float64Array.from([Infinity, -0.25]).buffer), [2])).toBe('[null,-0.25]');
  });

  it('writes a flat array and checks it against the shape', async () => {
    const data = new Uint8Array(Float32Array.from([0.5, 2]).buffer);
    expect(await text('FP32', data, [1, 2])).toBe('[0.5,2]');
    await expect(text('FP32', data, [3])).rejects.toThrow("output tensor shape does not match size of output for 'o'");
  });

  it('stops at the limit instead of writing the rest', async () => {
    const w = new ChunkWriter(100, () => {
      throw new Error('over the limit');
    });
    const data = new Uint8Array(new Float32Array(10_000).buffer);
    await expect(writeTensorJson(w, { name: 'o', datatype: 'FP32', shape: [10_000], data })).rejects.toThrow('over the limit');
    expect(w.length).toBeLessThanOrEqual(101);
  });

  it('spans several chunks for a long tensor', async () => {
    const values = Float32Array.from({ length: 120_000 }, (_, i) => i / 3);
    const w = new ChunkWriter(1 << 30, () => {
      throw new Error('over');
    });
    await writeTensorJson(w, { name: 'o', datatype: 'FP32', shape: [values.length], data: new Uint8Array(values.buffer) });
    const chunks = w.finish();
    expect(chunks.length).toBeGreaterThan(1);
    const parsed = JSON.parse(Buffer.concat(chunks).toString()) as number[];
    expect(parsed.length).toBe(values.length);
    expect(parsed.findIndex((v, i) => v !== values[i])).toBe(-1);
    // Chunks grow from small to at most 1 MB, so a short response does not cost a 1 MB allocation.
    expect(chunks[0]!.buffer.byteLength).toBeLessThanOrEqual(16 * 1024);
    expect(Math.max(...chunks.map((c) => c.buffer.byteLength))).toBeLessThanOrEqual(1024 * 1024);
  });

  it('keeps a short response in one small chunk', async () => {
    const w = new ChunkWriter(1 << 20, () => {
      throw new Error('over');
    });
    w.ascii('{"model_name":"m","outputs":[]}');
    const chunks = w.finish();
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.buffer.byteLength).toBeLessThanOrEqual(16 * 1024);
  });
});
