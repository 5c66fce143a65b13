import { gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../../../src/server/http/app.js';
import { DataPlane } from '../../../../src/server/dataplane.js';
import { FakeCatalog, classifierModel, sumModel } from '../../../fixtures/fake-models.js';

// The 197-byte header tritonclient.http writes for OneFlow-Serving's examples/client.py (protocol §8).
const ONEFLOW_JSON =
  '{"inputs":[{"name":"INPUT_0","shape":[1,3,224,224],"datatype":"FP32","parameters":{"binary_data_size":602112}}],"outputs":[{"name":"OUTPUT_0","parameters":{"classification":3,"binary_data":true}}]}';

/** Scores a test controls: three known winners among 1000 classes. */
function scores(): Float32Array {
  const s = new Float32Array(1000);
  s.fill(-3);
  s[282] = 12.219206;
  s[281] = 11.87;
  s[285] = 10.5;
  return s;
}
function labels(): string[] {
  const l = Array.from({ length: 1000 }, (_, i) => `class ${i}`);
  l[281] = 'TABBY';
  l[282] = 'TIGER CAT';
  l[285] = 'EGYPTIAN CAT';
  return l;
}

/** What tritonclient.http's InferResult + as_numpy do with a binary response. */
function pythonClientDecode(body: Buffer, headers: Record<string, unknown>): { json: any; outputs: Record<string, string[]> } {
  const headerLength = Number(headers['inference-header-content-length']);
  const json = JSON.parse(body.subarray(0, headerLength).toString('utf8'));
  const outputs: Record<string, string[]> = {};
  let offset = headerLength;
  for (const o of json.outputs) {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) continue;
    const buf = body.subarray(offset, offset + size);
    offset += size;
    // deserialize_bytes_tensor: struct.unpack_from("<I") then the bytes, repeatedly.
    const items: string[] = [];
    let at = 0;
    while (at < buf.length) {
      const l = buf.readUInt32LE(at);
      at += 4;
      items.push(buf.subarray(at, at + l).toString('latin1'));
      at += l;
    }
    outputs[o.name] = items;
  }
  return { json, outputs };
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function appWith(...models: ReturnType<typeof sumModel>[]): FastifyInstance {
  app = createHttpApp({ dataplane: new DataPlane({ catalog: new FakeCatalog().add(...models) }), bodyLimit: 8 * 1024 * 1024 });
  return app;
}

describe('POST /v2/models/{m}/infer — binary', () => {
  it('answers the exact OneFlow example request as the Python client expects', async () => {
    expect(Buffer.byteLength(ONEFLOW_JSON)).toBe(197);
    const model = classifierModel({ scores: scores(), labels: labels() });
    const a = appWith(model);
    const image = Buffer.alloc(602112);
    for (let i = 0; i < image.length; i += 4) image.writeFloatLE((i % 17) / 17, i);
    const res = await a.inject({
      method: 'POST',
      url: '/v2/models/resnet50/infer',
      headers: { 'inference-header-content-length': '197', 'user-agent': 'python/gevent-http-client-2.0' },
      payload: Buffer.concat([Buffer.from(ONEFLOW_JSON), image]),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
    const { json, outputs } = pythonClientDecode(res.rawPayload, res.headers);
    expect(json.model_name).toBe('resnet50');
    expect(json.model_version).toBe('1');
    expect(json.outputs[0]).toMatchObject({ name: 'OUTPUT_0', datatype: 'BYTES', shape: [1, 3] });
    expect(outputs.OUTPUT_0).toEqual(['12.219206:282:TIGER CAT', '11.870000:281:TABBY', '10.500000:285:EGYPTIAN CAT']);
    // The model saw the image bytes unchanged, shaped [1,3,224,224].
    const seen = model.sessions[0].runs[0].inputs[0];
    expect(seen.shape).toEqual([1, 3, 224, 224]);
    expect(Buffer.from(seen.data)).toEqual(image);
  });

  it('reports a binary size that does not match the bytes sent', async () => {
    const a = appWith(classifierModel({ scores: scores() }));
    const res = await a.inject({
      method: 'POST',
      url: '/v2/models/resnet50/infer',
      headers: { 'inference-header-content-length': '197' },
      payload: Buffer.concat([Buffer.from(ONEFLOW_JSON), Buffer.alloc(1000)]),
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toEqual({ error: "unexpected size for input 'INPUT_0', expecting 601112 additional bytes for model 'resnet50'" });
  });

  it('reports trailing extra data', async () => {
    const a = appWith(classifierModel({ scores: scores() }));
    const res = await a.inject({
      method: 'POST',
      url: '/v2/models/resnet50/infer',
      headers: { 'inference-header-content-length': '197' },
      payload: Buffer.concat([Buffer.from(ONEFLOW_JSON), Buffer.alloc(602112 + 3)]),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: "unexpected additional input data for model 'resnet50'" });
  });

  it('reports a missing header before binary data as a JSON parse error', async () => {
    const a = appWith(classifierModel({ scores: scores() }));
    const res = await a.inject({
      method: 'POST',
      url: '/v2/models/resnet50/infer',
      payload: Buffer.concat([Buffer.from(ONEFLOW_JSON), Buffer.alloc(602112)]),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/^failed to parse the request JSON buffer: /);
  });

  it('serves a raw binary request (header length 0) with binary outputs', async () => {
    const a = appWith(classifierModel({ scores: scores() }));
    const res = await a.inject({
      method: 'POST',
      url: '/v2/models/resnet50/infer',
      headers: { 'inference-header-content-length': '0', 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(602112),
    });
    expect(res.statusCode).toBe(200);
    const headerLength = Number(res.headers['inference-header-content-length']);
    const json = JSON.parse(res.rawPayload.subarray(0, headerLength).toString());
    expect(json.outputs[0]).toMatchObject({ name: 'OUTPUT_0', shape: [1, 1000], parameters: { binary_data_size: 4000 } });
    expect(res.rawPayload.readFloatLE(headerLength + 282 * 4)).toBeCloseTo(12.219206, 5);
  });

  it('accepts gzip and deflate request bodies and compresses responses on request', async () => {
    const a = appWith(classifierModel({ scores: scores(), labels: labels() }));
    const body = Buffer.concat([Buffer.from(ONEFLOW_JSON), Buffer.alloc(602112)]);
    const res = await a.inject({
      method: 'POST',
      url: '/v2/models/resnet50/infer',
      headers: { 'inference-header-content-length': '197', 'content-encoding': 'gzip', 'accept-encoding': 'deflate;q=0.5, gzip;q=0.9' },
      payload: gzipSync(body),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    const plain = gunzipSync(res.rawPayload);
    expect(pythonClientDecode(plain, res.headers).outputs.OUTPUT_0[0]).toBe('12.219206:282:TIGER CAT');

    const res2 = await a.inject({
      method: 'POST',
      url: '/v2/models/resnet50/infer',
      headers: { 'inference-header-content-length': '197', 'content-encoding': 'deflate', 'accept-encoding': 'deflate' },
      payload: (await import('node:zlib')).deflateSync(body),
    });
    expect(res2.headers['content-encoding']).toBe('deflate');
    expect(pythonClientDecode(inflateSync(res2.rawPayload), res2.headers).outputs.OUTPUT_0).toHaveLength(3);
  });

  it('answers an unsupported Content-Encoding with 501 and Accept-Encoding', async () => {
    const a = appWith(sumModel());
    const res = await a.inject({ method: 'POST', url: '/v2/models/simple/infer', headers: { 'content-encoding': 'br' }, payload: Buffer.from('{}') });
    expect(res.statusCode).toBe(501);
    expect(res.headers['accept-encoding']).toBe('gzip, deflate');
    expect(res.json().error).toContain("unsupported Content-Encoding 'br'");
  });

  it('rejects a body over the limit with the limit in the message', async () => {
    app = createHttpApp({ dataplane: new DataPlane({ catalog: new FakeCatalog().add(sumModel()) }), bodyLimit: 1000 });
    const res = await app.inject({ method: 'POST', url: '/v2/models/simple/infer', payload: Buffer.alloc(2000) });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toEqual({ error: 'request body is larger than the server limit of 1000 bytes' });
    // A small gzip body that inflates past the limit is refused too.
    const bomb = await app.inject({ method: 'POST', url: '/v2/models/simple/infer', headers: { 'content-encoding': 'gzip' }, payload: gzipSync(Buffer.alloc(5000)) });
    expect(bomb.statusCode).toBe(400);
    expect(bomb.json().error).toContain('1000 bytes');
  });
});

describe('POST /v2/models/{m}/infer — JSON', () => {
  const simpleRequest = (extra: Record<string, unknown> = {}) => ({
    inputs: [
      { name: 'INPUT0', shape: [1, 16], datatype: 'INT32', data: [Array.from({ length: 16 }, (_, i) => i)] },
      { name: 'INPUT1', shape: [1, 16], datatype: 'INT32', data: Array.from({ length: 16 }, () => 1) },
    ],
    ...extra,
  });

  it('runs a JSON-only request and returns every output as JSON', async () => {
    const a = appWith(sumModel());
    const res = await a.inject({ method: 'POST', url: '/v2/models/simple/infer', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(simpleRequest({ id: 'r1' })) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['inference-header-content-length']).toBeUndefined();
    const body = res.json();
    expect(body.id).toBe('r1');
    expect(body.outputs.map((o: { name: string }) => o.name)).toEqual(['OUTPUT0', 'OUTPUT1']);
    expect(body.outputs[0]).toEqual({ name: 'OUTPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i + 1) });
  });

  it('returns binary outputs when binary_data_output is set and no outputs are named', async () => {
    const a = appWith(sumModel());
    const res = await a.inject({ method: 'POST', url: '/v2/models/simple/infer', payload: JSON.stringify(simpleRequest({ parameters: { binary_data_output: true } })) });
    expect(res.headers['content-type']).toBe('application/octet-stream');
    const hl = Number(res.headers['inference-header-content-length']);
    const json = JSON.parse(res.rawPayload.subarray(0, hl).toString());
    expect(json.outputs.map((o: { parameters: { binary_data_size: number } }) => o.parameters.binary_data_size)).toEqual([64, 64]);
    expect(res.rawPayload.length).toBe(hl + 128);
    expect(res.rawPayload.readInt32LE(hl + 4)).toBe(2);
    expect(res.rawPayload.readInt32LE(hl + 64 + 4)).toBe(0);
  });

  it('classifies in JSON mode: strings in data', async () => {
    const a = appWith(classifierModel({ scores: scores(), labels: labels() }));
    const req = {
      inputs: [{ name: 'INPUT_0', shape: [1, 3, 224, 224], datatype: 'FP32', data: new Array(3 * 224 * 224).fill(0) }],
      outputs: [{ name: 'OUTPUT_0', parameters: { classification: 2, binary_data: false } }],
    };
    const res = await a.inject({ method: 'POST', url: '/v2/models/resnet50/infer', payload: JSON.stringify(req) });
    expect(res.statusCode).toBe(200);
    expect(res.json().outputs).toEqual([{ name: 'OUTPUT_0', datatype: 'BYTES', shape: [1, 2], data: ['12.219206:282:TIGER CAT', '11.870000:281:TABBY'] }]);
  });

  const failures: [string, unknown, number, string | RegExp][] = [
    ['wrong dims', { inputs: [{ name: 'INPUT0', shape: [1, 4], datatype: 'INT32', data: [1, 2, 3, 4] }, { name: 'INPUT1', shape: [1, 16], datatype: 'INT32', data: new Array(16).fill(1) }] }, 400, "unexpected shape for input 'INPUT0' for model 'simple'. Expected [-1,16], got [1,4]"],
    ['wrong datatype', { inputs: [{ name: 'INPUT0', shape: [1, 16], datatype: 'FP32', data: new Array(16).fill(1) }, { name: 'INPUT1', shape: [1, 16], datatype: 'INT32', data: new Array(16).fill(1) }] }, 400, "inference input 'INPUT0' data-type is 'FP32', but model 'simple' expects 'INT32'"],
    ['unknown input', { inputs: [{ name: 'NOPE', shape: [1], datatype: 'INT32', data: [1] }] }, 400, "unexpected inference input 'NOPE' for model 'simple'"],
    ['data not matching shape', { inputs: [{ name: 'INPUT0', shape: [1, 16], datatype: 'INT32', data: [1] }] }, 400, "Unable to parse 'data': Shape does not match true shape of 'data' field"],
    ['no inputs array', { input: [] }, 400, "Unable to parse 'inputs'"],
  ];
  for (const [what, body, status, message] of failures) {
    it(`answers ${what} with ${status} and {"error"}`, async () => {
      const a = appWith(sumModel());
      const res = await a.inject({ method: 'POST', url: '/v2/models/simple/infer', payload: JSON.stringify(body) });
      expect(res.statusCode).toBe(status);
      expect(res.headers['content-type']).toBe('application/json');
      expect(Object.keys(res.json())).toEqual(['error']);
      expect(res.json().error).toContain(message);
    });
  }

  it('answers malformed JSON with Triton\'s parse message', async () => {
    const a = appWith(sumModel());
    const res = await a.inject({ method: 'POST', url: '/v2/models/simple/infer', payload: '{"inputs": [' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/^failed to parse the request JSON buffer: /);
  });

  it('answers an unknown model with 404 before reading the body', async () => {
    const a = appWith(sumModel());
    const res = await a.inject({ method: 'POST', url: '/v2/models/x/infer', payload: 'not json' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: "Request for unknown model: 'x' is not found; available models: simple" });
  });

  it('honours the version segment', async () => {
    const a = appWith(sumModel());
    const ok = await a.inject({ method: 'POST', url: '/v2/models/simple/versions/1/infer', payload: JSON.stringify(simpleRequest()) });
    expect(ok.statusCode).toBe(200);
    const missing = await a.inject({ method: 'POST', url: '/v2/models/simple/versions/2/infer', payload: JSON.stringify(simpleRequest()) });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toContain("Request for unknown model: 'simple'");
    const notNumeric = await a.inject({ method: 'POST', url: '/v2/models/simple/versions/abc/infer', payload: '{}' });
    expect(notNumeric.statusCode).toBe(404);
    expect(notNumeric.json()).toEqual({ error: 'Not Found' });
  });
});
