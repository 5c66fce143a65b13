import { describe, expect, it } from 'vitest';
import { decodeInferBody, encodeInferResponse } from '../../../src/protocol/binary.js';
import { jsonDataToBytes } from '../../../src/protocol/json-tensor.js';
import { dataSpanToBytes } from '../../../src/protocol/json-span.js';
import { encodeInferRequest } from '../../../src/client/request-encoder.js';
import { decodeInferResponse } from '../../../src/client/infer-result.js';
import { inferInput } from '../../../src/client/infer-input.js';

/**
 * The client and the server share one tensor codec (src/protocol/), so 64-bit integers that a double
 * cannot hold survive JSON in both directions, not only as binary data.
 */

const INT64 = BigInt64Array.from([2n ** 63n - 1n, -(2n ** 63n), 9007199254740993n, -1n]);
const UINT64 = BigUint64Array.from([2n ** 64n - 1n, 9007199254740993n, 0n]);

function bytes(a: BigInt64Array | BigUint64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

describe('INT64/UINT64 through JSON, exactly', () => {
  it('client request (JSON data) → server input bytes', async () => {
    const inputs = [
      inferInput('I', 'INT64', [INT64.length], INT64, { binaryData: false }),
      inferInput('U', 'UINT64', [UINT64.length], UINT64, { binaryData: false }),
    ];
    const { body, headerLength } = encodeInferRequest(inputs);
    expect(headerLength).toBeUndefined();
    expect(new TextDecoder().decode(body)).toContain('[9223372036854775807,-9223372036854775808,9007199254740993,-1]');
    const decoded = await decodeInferBody(body, headerLength, 'm');
    if (decoded.kind !== 'json') throw new Error('expected a JSON body');
    // Numeric data is decoded from the request bytes (spans); both paths must be exact.
    expect(decoded.spans.every((s) => s !== undefined)).toBe(true);
    const got = await Promise.all(
      decoded.request.inputs.map((i, k) => dataSpanToBytes(i.name, i.datatype, i.shape, decoded.body, decoded.spans[k] as NonNullable<(typeof decoded.spans)[number]>)),
    );
    expect(got[0]).toEqual(bytes(INT64));
    expect(got[1]).toEqual(bytes(UINT64));
    expect(got[0]).toEqual(bytes(INT64));
    expect(got[1]).toEqual(bytes(UINT64));
  });

  it('server response (JSON data) → client typed array', async () => {
    const encoded = await encodeInferResponse({
      model_name: 'm',
      model_version: '1',
      outputs: [
        { tensor: { name: 'I', datatype: 'INT64', shape: [INT64.length], data: bytes(INT64) }, binary: false },
        { tensor: { name: 'U', datatype: 'UINT64', shape: [UINT64.length], data: bytes(UINT64) }, binary: false },
      ],
    });
    const result = decodeInferResponse(Buffer.concat(encoded.chunks), encoded.headerLength, 'http://test');
    const i = result.asTensor('I');
    const u = result.asTensor('U');
    expect(Array.from(new BigInt64Array(i.data.slice().buffer))).toEqual(Array.from(INT64));
    expect(Array.from(new BigUint64Array(u.data.slice().buffer))).toEqual(Array.from(UINT64));
  });

  it('refuses values outside the 64-bit ranges with the input named', () => {
    expect(() => jsonDataToBytes('I', 'INT64', [1], [2n ** 63n])).toThrow(/out of range for INT64 input 'I'/);
    expect(() => jsonDataToBytes('U', 'UINT64', [1], [-1])).toThrow(/out of range for UINT64 input 'U'/);
    expect(() => jsonDataToBytes('S', 'INT32', [1], [2n ** 40n])).toThrow(/out of range for INT32 input 'S'/);
    expect(() => jsonDataToBytes('B', 'BOOL', [1], [5n])).toThrow(/expected BOOL element for input 'B', got 5/);
    expect(() => jsonDataToBytes('I', 'INT64', [1], [1e19])).toThrow(/not an exact integer/);
  });

  it('reads 64-bit data exactly from the request bytes, and refuses what is out of range or inexact', async () => {
    const span = async (datatype: string, text: string) => {
      const decoded = await decodeInferBody(new TextEncoder().encode(`{"inputs":[{"name":"X","datatype":"${datatype}","shape":[1],"data":[${text}]}]}`), undefined, 'm');
      if (decoded.kind !== 'json' || !decoded.spans[0]) throw new Error('expected a numeric span');
      return dataSpanToBytes('X', datatype, [1], decoded.body, decoded.spans[0]);
    };
    expect(await span('INT64', '-9223372036854775808')).toEqual(bytes(BigInt64Array.from([-(2n ** 63n)])));
    expect(await span('UINT64', '18446744073709551615')).toEqual(bytes(BigUint64Array.from([2n ** 64n - 1n])));
    expect(await span('INT64', '-5')).toEqual(bytes(BigInt64Array.from([-5n])));
    await expect(span('INT64', '9223372036854775808')).rejects.toThrow(/out of range for INT64 input 'X'/);
    await expect(span('UINT64', '-1')).rejects.toThrow(/out of range for UINT64 input 'X'/);
    await expect(span('INT64', '1e19')).rejects.toThrow(/not an exact integer/);
    await expect(span('INT32', '9007199254740993')).rejects.toThrow(/INT32 input 'X'/);
  });
});
