/**
 * Hostile HTTP input: every malformed request gets a 4xx `{"error": …}` naming the problem (never a
 * 5xx, a stack trace or a hang), and the server keeps answering afterwards.
 */
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataPlane } from '../../../src/server/dataplane.js';
import { createHttpApp } from '../../../src/server/http/app.js';
import { anyShapeModel, FakeCatalog, classifierModel, fakeModel, identityModel, sumModel } from '../../fixtures/fake-models.js';
import { expectNoStack, memoryInUse, mutate, prng } from '../../fixtures/hostile.js';

const BODY_LIMIT = 1024 * 1024;

const anyShape = anyShapeModel();
const strings = fakeModel({
  name: 'strings',
  maxBatchSize: 0,
  inputs: [{ name: 'S', dtype: 'BYTES', shape: [-1] }],
  outputs: [{ name: 'S_OUT', dtype: 'BYTES', shape: [-1] }],
  compute: (inputs) => [{ ...inputs[0], name: 'S_OUT' }],
});
const ints = (datatype: 'INT8' | 'UINT8' | 'INT16' | 'UINT16' | 'INT32' | 'UINT32' | 'INT64' | 'UINT64') =>
  fakeModel({
    name: datatype.toLowerCase(),
    maxBatchSize: 0,
    inputs: [{ name: 'X', dtype: datatype, shape: [1] }],
    outputs: [{ name: 'Y', dtype: datatype, shape: [1] }],
    compute: (inputs) => [{ ...inputs[0], name: 'Y' }],
  });

let app: FastifyInstance;
beforeAll(() => {
  const catalog = new FakeCatalog().add(
    sumModel(),
    identityModel(),
    anyShape,
    strings,
    classifierModel({ name: 'cls', scores: [0.1, 0.7, 0.2], labels: ['a', 'b', 'c'], maxBatchSize: 4 }),
    ...(['INT8', 'UINT8', 'INT16', 'UINT16', 'INT32', 'UINT32', 'INT64', 'UINT64'] as const).map(ints),
  );
  app = createHttpApp({ dataplane: new DataPlane({ catalog }), bodyLimit: BODY_LIMIT });
});
afterAll(async () => {
  await app.close();
});

/** A client mistake: 4xx with a JSON error message and no stack. */
function expectClientError(res: LightMyRequestResponse, label = ''): string {
  expect(res.statusCode, `${label} ${res.body.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(res.statusCode, `${label} ${res.body.slice(0, 300)}`).toBeLessThan(500);
  expect(res.headers['content-type']).toBe('application/json');
  const body = JSON.parse(res.body) as { error: unknown };
  expect(typeof body.error).toBe('string');
  expect((body.error as string).length).toBeGreaterThan(0);
  expectNoStack(body.error as string);
  return body.error as string;
}

const infer = (model: string, payload: string | Buffer | object, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: `/v2/models/${model}/infer`,
    headers,
    payload: typeof payload === 'object' && !Buffer.isBuffer(payload) ? JSON.stringify(payload) : payload,
  });

const range16 = Array.from({ length: 16 }, (_, i) => i);
function sumBody(input0: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    inputs: [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: range16, ...input0 },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: range16 },
    ],
    ...extra,
  };
}

/** A valid binary request for `sum`: JSON header + 2 × 64 bytes. */
function binarySumRequest(): { body: Buffer; headerLength: number } {
  const json = JSON.stringify({
    inputs: [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: 64 } },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: 64 } },
    ],
    outputs: [{ name: 'OUTPUT0', parameters: { binary_data: true } }],
  });
  const data = Buffer.from(Int32Array.from([...range16, ...range16]).buffer);
  return { body: Buffer.concat([Buffer.from(json), data]), headerLength: Buffer.byteLength(json) };
}

describe('hostile infer bodies over HTTP', () => {
  it('sanity: the valid requests succeed', async () => {
    expect((await infer('simple', sumBody())).statusCode).toBe(200);
    const { body, headerLength } = binarySumRequest();
    const res = await infer('simple', body, { 'inference-header-content-length': String(headerLength) });
    expect(res.statusCode).toBe(200);
  });

  it('rejects malformed Inference-Header-Content-Length values', async () => {
    const { body } = binarySumRequest();
    for (const v of ['abc', '-1', '1e3', '0x10', '12.5', String(body.length + 1), '99999999999999999999999', ' ', 'NaN', 'Infinity']) {
      expectClientError(await infer('simple', body, { 'inference-header-content-length': v }), v);
    }
  });

  it('rejects binary_data_size that is negative, fractional, a string, huge or past the body', async () => {
    const data = Buffer.alloc(64);
    for (const size of [-1, 1.5, '64', 1e300, 2 ** 53 + 2, 2 ** 31, 65, null, true, {}]) {
      const json = JSON.stringify({
        inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: size } }],
      });
      const res = await infer('simple', Buffer.concat([Buffer.from(json), data]), {
        'inference-header-content-length': String(Buffer.byteLength(json)),
      });
      expectClientError(res, String(size));
    }
  });

  it('rejects hostile shapes before allocating for them', async () => {
    const before = memoryInUse();
    const shapes: unknown[] = [
      [-1, 16], [1.5, 16], [2 ** 53, 16], [2 ** 53 + 2, 16], [2 ** 31, 2 ** 31], [1e308, 1e308], ['1', 16],
      [null, 16], [[1], 16], [], 'shape', { 0: 1 }, [1, 16, 1], [1e400],
    ];
    for (const shape of shapes) expectClientError(await infer('simple', sumBody({ shape })), JSON.stringify(shape));
    // The wildcard model takes any rank-2 shape: the claim must still match the bytes sent.
    for (const shape of [[2 ** 31, 2 ** 31], [2 ** 53, 1], [0, 2 ** 60], [2 ** 60, 0], [2 ** 26, 2 ** 27]]) {
      const json = JSON.stringify({ inputs: [{ name: 'IN', datatype: 'FP32', shape, parameters: { binary_data_size: 16 } }] });
      const res = await infer('any', Buffer.concat([Buffer.from(json), Buffer.alloc(16)]), {
        'inference-header-content-length': String(Buffer.byteLength(json)),
      });
      expectClientError(res, JSON.stringify(shape));
      expectClientError(await infer('any', { inputs: [{ name: 'IN', datatype: 'FP32', shape, data: [1, 2, 3, 4] }] }));
    }
    // Zero elements, zero bytes: consistent, but a 2^60 dim must not reach a backend.
    for (const shape of [[0, 2 ** 60], [2 ** 60, 0], [0, 2 ** 53 + 2]]) {
      const json = JSON.stringify({ inputs: [{ name: 'IN', datatype: 'FP32', shape, parameters: { binary_data_size: 0 } }] });
      const res = await infer('any', json, { 'inference-header-content-length': String(Buffer.byteLength(json)) });
      expect(expectClientError(res, JSON.stringify(shape))).toMatch(/IN/);
      expectClientError(await infer('any', { inputs: [{ name: 'IN', datatype: 'FP32', shape, data: [] }] }));
    }
    const empty = await infer('any', { inputs: [{ name: 'IN', datatype: 'FP32', shape: [0, 5], data: [] }] });
    expect(empty.statusCode).toBe(200);
    expect(memoryInUse() - before).toBeLessThan(256 * 1024 * 1024);
  });

  it('survives deeply nested data and wrong element types', async () => {
    const deep = `{"inputs":[{"name":"IN","datatype":"FP32","shape":[1,1],"data":${'['.repeat(200_000)}1${']'.repeat(200_000)}}]}`;
    // Nesting is only row-major grouping: one element 200,000 levels deep is still one element.
    const nested = await infer('any', deep);
    expect(nested.statusCode, nested.body.slice(0, 200)).toBe(200);
    expect(JSON.parse(nested.body).outputs[0].data).toEqual([1]);
    const deepWrong = deep.replace('"shape":[1,1]', '"shape":[1,2]');
    expectClientError(await infer('any', deepWrong), 'deep data, wrong count');
    const deepParams = `{"inputs":[],"parameters":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`;
    expectClientError(await infer('simple', deepParams), 'deep parameters');
    for (const data of [['1', 2], [true], [null], [{}], [[]], [1.5], [NaN], 'flat', {}, [2 ** 31], [-(2 ** 31) - 1]]) {
      expectClientError(await infer('simple', sumBody({ shape: [1, Array.isArray(data) ? data.length : 1], data })), JSON.stringify(data));
    }
  });

  it('refuses integers out of the datatype range instead of wrapping them', async () => {
    const cases: [string, number[]][] = [
      ['int8', [128, -129]], ['uint8', [256, -1]], ['int16', [32768, -32769]], ['uint16', [65536]],
      ['int32', [2 ** 31, -(2 ** 31) - 1, 2 ** 40]], ['uint32', [2 ** 32]], ['int64', [2 ** 63]], ['uint64', [2 ** 64]],
    ];
    for (const [model, values] of cases) {
      for (const v of values) {
        const res = await infer(model, { inputs: [{ name: 'X', datatype: model.toUpperCase(), shape: [1], data: [v] }] });
        expect(expectClientError(res, `${model} ${v}`)).toMatch(/X/);
      }
    }
    // The limits themselves are fine.
    const ok = await infer('int8', { inputs: [{ name: 'X', datatype: 'INT8', shape: [1], data: [-128] }] });
    expect(ok.statusCode).toBe(200);
    const ok64 = await infer('int64', { inputs: [{ name: 'X', datatype: 'INT64', shape: [1], data: [2 ** 53 - 1] }] });
    expect(ok64.statusCode).toBe(200);
    // JSON integers beyond 2^53 are read exactly (no float rounding), so an in-range one is served.
    const exact = await infer('int64', '{"inputs":[{"name":"X","datatype":"INT64","shape":[1],"data":[9007199254740993]}]}');
    expect(exact.statusCode).toBe(200);
  });

  it('rejects BYTES elements whose lengths point past the end', async () => {
    const bad = [
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0x61]),
      Buffer.from([0x05, 0x00, 0x00, 0x00, 0x61]),
      Buffer.from([0x01, 0x00]),
    ];
    for (const data of bad) {
      const json = JSON.stringify({ inputs: [{ name: 'S', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: data.length } }] });
      const res = await infer('strings', Buffer.concat([Buffer.from(json), data]), {
        'inference-header-content-length': String(Buffer.byteLength(json)),
      });
      expectClientError(res, data.toString('hex'));
    }
    expectClientError(await infer('strings', { inputs: [{ name: 'S', datatype: 'BYTES', shape: [1], data: [5] }] }));
  });

  it('rejects bad classification, duplicate inputs, empty inputs, unknown outputs and odd ids', async () => {
    const batch = { inputs: [{ name: 'INPUT_0', datatype: 'FP32', shape: [1, 3, 224, 224], parameters: { binary_data_size: 602112 } }] };
    for (const k of ['3', -1, 2.5, true, null, {}]) {
      const json = JSON.stringify({ ...batch, outputs: [{ name: 'OUTPUT_0', parameters: { classification: k } }] });
      const res = await infer('cls', Buffer.concat([Buffer.from(json), Buffer.alloc(602112)]), {
        'inference-header-content-length': String(Buffer.byteLength(json)),
      });
      expectClientError(res, `classification ${JSON.stringify(k)}`);
    }
    // A huge k is clamped to the class count, as Triton does.
    const json = JSON.stringify({ ...batch, outputs: [{ name: 'OUTPUT_0', parameters: { classification: 2 ** 53 - 1 } }] });
    const huge = await infer('cls', Buffer.concat([Buffer.from(json), Buffer.alloc(602112)]), {
      'inference-header-content-length': String(Buffer.byteLength(json)),
    });
    expect(huge.statusCode).toBe(200);
    expect(JSON.parse(huge.body).outputs[0].shape).toEqual([1, 3]);

    const dup = sumBody();
    dup.inputs.push({ ...dup.inputs[0] });
    expect(expectClientError(await infer('simple', dup))).toMatch(/INPUT0/);
    expectClientError(await infer('simple', { inputs: [] }));
    expectClientError(await infer('simple', sumBody({}, { outputs: [{ name: 'NOPE' }] })));
    expectClientError(await infer('simple', sumBody({}, { outputs: [{ name: 'OUTPUT0' }, { name: 'OUTPUT0' }] })));
    expectClientError(await infer('simple', sumBody({}, { outputs: [{}] })));
    expectClientError(await infer('simple', sumBody({}, { outputs: 'OUTPUT0' })));
    for (const id of [5, null, {}, [], true]) expectClientError(await infer('simple', sumBody({}, { id })), `id ${JSON.stringify(id)}`);
    for (const body of ['', 'null', '[]', '"x"', '5', '{"inputs":{}}', '{"inputs":[null]}', '{"inputs":[5]}', '\u0000\u0001', '{']) {
      expectClientError(await infer('simple', body), JSON.stringify(body));
    }
  });

  it('answers a gzip bomb with a body-size error, without inflating it all', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    const before = memoryInUse();
    const res = await infer('simple', bomb, { 'content-encoding': 'gzip' });
    expect(expectClientError(res)).toMatch(/larger than the server limit/);
    expect(memoryInUse() - before).toBeLessThan(48 * 1024 * 1024);
    expectClientError(await infer('simple', Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' }));
    expectClientError(await infer('simple', gzipSync(Buffer.from('{"inputs":[')).subarray(0, 12), { 'content-encoding': 'deflate' }));
  });

  it('rejects raw (header length 0) bodies that cannot be an input', async () => {
    const raw = (model: string, bytes: number) => infer(model, Buffer.alloc(bytes), { 'inference-header-content-length': '0' });
    expectClientError(await raw('simple', 128), 'two inputs');
    expectClientError(await raw('identity', 15), 'not a multiple of a row');
    expectClientError(await raw('any', 16), 'two wildcard dims');
    expect((await raw('identity', 16)).statusCode).toBe(200);
  });

  it('rejects an oversized body with 400', async () => {
    expect(expectClientError(await infer('simple', Buffer.alloc(BODY_LIMIT + 1, 0x20)))).toMatch(/larger than the server limit/);
  });

  it('treats path tricks and long names as unknown models, not files', async () => {
    const urls = [
      '/v2/models/..%2F..%2Fetc%2Fpasswd/config',
      '/v2/models/%2e%2e/config',
      '/v2/models/%2e%2e%2f%2e%2e/infer',
      '/v2/models/simple/versions/..%2F1/config',
      '/v2/models/simple/versions/99999999999999999999999/config',
      '/v2/models/simple/versions/-1/config',
      `/v2/models/${'a'.repeat(5000)}/config`,
      `/v2/models/${'a'.repeat(1000)}/ready`,
      '/v2/models/%00/config',
      '/v2/models/%ZZ/config',
      '/v2/models/simple%00/config',
    ];
    for (const url of urls) {
      const res = await app.inject({ method: url.endsWith('infer') ? 'POST' : 'GET', url, payload: url.endsWith('infer') ? '{}' : undefined });
      expectClientError(res, url);
    }
    expectClientError(await app.inject({ method: 'POST', url: '/v2/repository/index', payload: '{"ready":' }));
  });

  it('fuzz: 300 mutations of a valid binary request never answer 5xx', async () => {
    const rnd = prng(0x5eed);
    const { body, headerLength } = binarySumRequest();
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const mutated = Buffer.from(mutate(body, rnd));
      // The header length is kept, nudged, or left out, so both the JSON and the split get exercised.
      const pick = rnd();
      const headers: Record<string, string> =
        pick < 0.6
          ? { 'inference-header-content-length': String(Math.min(headerLength, mutated.length)) }
          : pick < 0.8
            ? { 'inference-header-content-length': String(Math.max(0, Math.min(mutated.length, headerLength + Math.floor(rnd() * 9) - 4))) }
            : {};
      const res = await infer('simple', mutated, headers);
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode !== 200) expectClientError(res, `case ${i}`);
    }
    expect([...statuses.keys()].every((s) => s === 200 || (s >= 400 && s < 500))).toBe(true);
  });

  it('fuzz: 300 mutations of a valid JSON request never answer 5xx', async () => {
    const rnd = prng(42);
    const valid = Buffer.from(JSON.stringify(sumBody({}, { id: 'r1', outputs: [{ name: 'OUTPUT1', parameters: { classification: 2 } }] })));
    for (let i = 0; i < 300; i++) {
      const res = await infer('simple', Buffer.from(mutate(valid, rnd)));
      if (res.statusCode !== 200) expectClientError(res, `case ${i}`);
    }
    // Still serving.
    expect((await infer('simple', sumBody())).statusCode).toBe(200);
  });
});
