import { describe, expect, it } from 'vitest';
import { decodeInferBody, encodeInferResponse, parseInferenceHeaderLength } from '../../../src/protocol/binary.js';
import { parseBytesElements, serializeBytesElements } from '../../../src/core/tensor/bytes.js';
import { GRPC_CODE_BY_KIND, HTTP_STATUS_BY_KIND } from '../../../src/protocol/error-status.js';

const body = (json: string, ...chunks: Uint8Array[]): Buffer => Buffer.concat([Buffer.from(json), ...chunks]);

describe('decodeInferBody', () => {
  it('maps binary chunks to inputs in order, skipping JSON inputs', async () => {
    const json = JSON.stringify({
      inputs: [
        { name: 'A', shape: [2], datatype: 'UINT8', parameters: { binary_data_size: 2 } },
        { name: 'B', shape: [1], datatype: 'INT32', data: [7] },
        { name: 'C', shape: [3], datatype: 'UINT8', parameters: { binary_data_size: 3 } },
      ],
    });
    const decoded = await decodeInferBody(body(json, Uint8Array.from([1, 2]), Uint8Array.from([3, 4, 5])), json.length, 'm');
    expect(decoded.kind).toBe('json');
    if (decoded.kind !== 'json') return;
    expect(decoded.request.inputs.map((i) => i.name)).toEqual(['A', 'B', 'C']);
    expect(Array.from(decoded.binary[0] ?? [])).toEqual([1, 2]);
    expect(decoded.binary[1]).toBeUndefined();
    expect(Array.from(decoded.binary[2] ?? [])).toEqual([3, 4, 5]);
  });

  it('reads the whole body as JSON without the header', async () => {
    const json = '{"inputs":[{"name":"X","shape":[1],"datatype":"FP32","data":[1.5]}]}';
    const decoded = await decodeInferBody(Buffer.from(json), undefined, 'm');
    expect(decoded.kind).toBe('json');
    if (decoded.kind !== 'json') return;
    expect(decoded.request.inputs[0].name).toBe('X');
    // The numbers stay in the bytes, as a span for dataSpanToBytes.
    const span = decoded.spans[0];
    expect(span && Buffer.from(decoded.body.subarray(span.start, span.end)).toString()).toBe('[1.5]');
    expect(span?.count).toBe(1);
  });

  it('treats header length 0 as a raw binary request', async () => {
    const decoded = await decodeInferBody(Buffer.from([9, 9, 9, 9]), 0, 'm');
    expect(decoded).toEqual({ kind: 'raw', data: Buffer.from([9, 9, 9, 9]) });
  });

  it('reports missing binary bytes with Triton\'s message', async () => {
    const json = '{"inputs":[{"name":"X","shape":[4],"datatype":"UINT8","parameters":{"binary_data_size":4}}]}';
    await expect(decodeInferBody(body(json, Uint8Array.from([1])), json.length, 'mm')).rejects.toThrow(
      "unexpected size for input 'X', expecting 3 additional bytes for model 'mm'",
    );
  });

  it('reports trailing data with Triton\'s message', async () => {
    const json = '{"inputs":[{"name":"X","shape":[1],"datatype":"UINT8","parameters":{"binary_data_size":1}}]}';
    await expect(decodeInferBody(body(json, Uint8Array.from([1, 2])), json.length, 'mm')).rejects.toThrow(
      "unexpected additional input data for model 'mm'",
    );
  });

  it('reports JSON that does not parse, as when the header is missing before binary data', async () => {
    const json = '{"inputs":[{"name":"X","shape":[1],"datatype":"UINT8","parameters":{"binary_data_size":1}}]}';
    await expect(decodeInferBody(body(json, Uint8Array.from([1])), undefined, 'm')).rejects.toThrow(
      /^failed to parse the request JSON buffer: /,
    );
  });

  it('requires exactly one data source per input', async () => {
    const json = '{"inputs":[{"name":"X","shape":[1],"datatype":"UINT8"}]}';
    await expect(decodeInferBody(Buffer.from(json), undefined, 'm')).rejects.toThrow(
      "Input must set only one of the following fields: 'data', 'binary_data_size' in 'parameters', 'shared_memory_region' in 'parameters'. But no field is set",
    );
    const both = '{"inputs":[{"name":"X","shape":[1],"datatype":"UINT8","data":[1],"parameters":{"binary_data_size":1}}]}';
    await expect(decodeInferBody(Buffer.from(both), undefined, 'm')).rejects.toThrow("But set 'data' 'binary_data_size'");
  });

  it('rejects a header length beyond the body', async () => {
    await expect(decodeInferBody(Buffer.from('{}'), 5, 'm')).rejects.toThrow('inference header size should be in range (0, 2), got: 5');
    expect(() => parseInferenceHeaderLength('abc', 10)).toThrow('got: abc');
    expect(() => parseInferenceHeaderLength('-1', 10)).toThrow('got: -1');
    expect(parseInferenceHeaderLength('10', 10)).toBe(10);
    expect(parseInferenceHeaderLength(undefined, 10)).toBeUndefined();
  });
});

const bodyOf = (out: { chunks: readonly Buffer[] }): Buffer => Buffer.concat(out.chunks);

describe('encodeInferResponse', () => {
  const t = (name: string, values: number[]) => ({
    name,
    datatype: 'FP32' as const,
    shape: [values.length],
    data: new Uint8Array(Float32Array.from(values).buffer),
  });

  it('writes JSON-only responses with application/json and Triton key order', async () => {
    const out = await encodeInferResponse({ model_name: 'm', model_version: '1', outputs: [{ tensor: t('O', [1.5, -2]), binary: false }] });
    expect(out.contentType).toBe('application/json');
    expect(out.headerLength).toBeUndefined();
    expect(bodyOf(out).toString()).toBe(
      '{"model_name":"m","model_version":"1","outputs":[{"name":"O","datatype":"FP32","shape":[2],"data":[1.5,-2]}]}',
    );
  });

  it('puts binary outputs after the JSON in outputs order, with binary_data_size', async () => {
    const a = t('A', [1]);
    const b = t('B', [2, 3]);
    const out = await encodeInferResponse({
      id: 'req-1',
      model_name: 'm',
      model_version: '1',
      outputs: [
        { tensor: a, binary: true },
        { tensor: t('J', [4]), binary: false },
        { tensor: b, binary: true },
      ],
    });
    expect(out.contentType).toBe('application/octet-stream');
    const header = JSON.parse(bodyOf(out).subarray(0, out.headerLength).toString());
    expect(header.id).toBe('req-1');
    expect(header.outputs.map((o: { parameters?: { binary_data_size?: number } }) => o.parameters?.binary_data_size)).toEqual([4, undefined, 8]);
    expect(bodyOf(out).subarray(out.headerLength as number)).toEqual(Buffer.concat([a.data, b.data]));
  });

  it('writes 64-bit integers exactly and non-finite floats as null', async () => {
    const big = { name: 'I', datatype: 'INT64' as const, shape: [2], data: new Uint8Array(BigInt64Array.from([9007199254740993n, -1n]).buffer) };
    const out = await encodeInferResponse({ model_name: 'm', model_version: '1', outputs: [{ tensor: big, binary: false }, { tensor: t('F', [Number.NaN]), binary: false }] });
    expect(bodyOf(out).toString()).toContain('"data":[9007199254740993,-1]');
    expect(bodyOf(out).toString()).toContain('"data":[null]');
  });
});

describe('BYTES serialization', () => {
  it('round-trips uint32 LE length-prefixed elements', async () => {
    const data = serializeBytesElements(['ab', '', 'é']);
    expect(Array.from(data.subarray(0, 6))).toEqual([2, 0, 0, 0, 0x61, 0x62]);
    expect(parseBytesElements(data)?.map((b) => Buffer.from(b).toString())).toEqual(['ab', '', 'é']);
    expect(parseBytesElements(Uint8Array.from([5, 0, 0, 0, 1]))).toBeUndefined();
  });
});

describe('error status tables', () => {
  it('map every kind as Triton does', async () => {
    expect(HTTP_STATUS_BY_KIND).toEqual({ INVALID_ARG: 400, NOT_FOUND: 404, UNAVAILABLE: 503, UNSUPPORTED: 501, INTERNAL: 500, ALREADY_EXISTS: 400, CANCELLED: 400 });
    expect(GRPC_CODE_BY_KIND).toEqual({ INVALID_ARG: 3, NOT_FOUND: 5, UNAVAILABLE: 14, UNSUPPORTED: 12, INTERNAL: 13, ALREADY_EXISTS: 6, CANCELLED: 1 });
  });
});
