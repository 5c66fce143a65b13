import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../../../../src/server/http/app.js';
import { DataPlane } from '../../../../src/server/dataplane.js';
import { FakeCatalog, sumModel } from '../../../fixtures/fake-models.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function appWith(catalog: FakeCatalog): FastifyInstance {
  app = createHttpApp({ dataplane: new DataPlane({ catalog, serverVersion: '2.50.0' }), bodyLimit: 1 << 20 });
  return app;
}

describe('health', () => {
  it('answers live and ready with 200 and an empty body', async () => {
    const a = appWith(new FakeCatalog().add(sumModel()));
    for (const url of ['/v2/health/live', '/v2/health/ready']) {
      const res = await a.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('');
      expect(res.headers['content-length']).toBe('0');
    }
  });

  it('answers ready with 400 and an empty body while a model is loading', async () => {
    const a = appWith(new FakeCatalog().add(sumModel()).addLoading('coming'));
    const res = await a.inject({ method: 'GET', url: '/v2/health/ready' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toBe('');
  });

  it('stays ready when a model failed to load (Triton skips UNAVAILABLE models)', async () => {
    const a = appWith(new FakeCatalog().add(sumModel()).addUnavailable('broken', 'boom'));
    expect((await a.inject({ method: 'GET', url: '/v2/health/ready' })).statusCode).toBe(200);
  });
});

describe('metadata, config, readiness', () => {
  it('serves server metadata', async () => {
    const res = await appWith(new FakeCatalog()).inject({ method: 'GET', url: '/v2' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toMatchObject({ name: 'triton', version: '2.50.0' });
    expect(res.json().extensions).toContain('statistics');
  });

  it('serves model metadata with and without a version', async () => {
    const a = appWith(new FakeCatalog().add(sumModel()));
    for (const url of ['/v2/models/simple', '/v2/models/simple/versions/1']) {
      const res = await a.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ name: 'simple', versions: ['1'], inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [-1, 16] }, { name: 'INPUT1' }] });
    }
    const unknown = await a.inject({ method: 'GET', url: '/v2/models/nope' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ error: "Request for unknown model: 'nope' is not found" });
  });

  it('serves the model config as JSON', async () => {
    const a = appWith(new FakeCatalog().add(sumModel()));
    const res = await a.inject({ method: 'GET', url: '/v2/models/simple/config' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'simple', max_batch_size: 8, input: [{ name: 'INPUT0', data_type: 'TYPE_INT32', dims: [16] }, { name: 'INPUT1' }] });
  });

  it('answers model ready 200 / 400 as Triton', async () => {
    const a = appWith(new FakeCatalog().add(sumModel()).addUnavailable('broken', 'x'));
    expect((await a.inject({ method: 'GET', url: '/v2/models/simple/ready' })).statusCode).toBe(200);
    expect((await a.inject({ method: 'GET', url: '/v2/models/simple/versions/1/ready' })).body).toBe('');
    const notReady = await a.inject({ method: 'GET', url: '/v2/models/broken/ready' });
    expect(notReady.statusCode).toBe(400);
    expect(notReady.json()).toEqual({ error: 'Model version not ready' });
    const unknown = await a.inject({ method: 'GET', url: '/v2/models/nope/ready' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toEqual({ error: "Request for unknown model: 'nope' is not found" });
  });
});

describe('statistics', () => {
  it('serves per-model and all-model stats with every field perf_analyzer reads', async () => {
    const a = appWith(new FakeCatalog().add(sumModel(), sumModel({ name: 'other' })));
    const payload = JSON.stringify({
      inputs: [
        { name: 'INPUT0', shape: [1, 16], datatype: 'INT32', data: new Array(16).fill(1) },
        { name: 'INPUT1', shape: [1, 16], datatype: 'INT32', data: new Array(16).fill(1) },
      ],
    });
    await a.inject({ method: 'POST', url: '/v2/models/simple/infer', payload });
    const res = await a.inject({ method: 'GET', url: '/v2/models/simple/stats' });
    expect(res.statusCode).toBe(200);
    const [s] = res.json().model_stats;
    expect(s).toMatchObject({ name: 'simple', version: '1', inference_count: 1, execution_count: 1 });
    for (const key of ['success', 'fail', 'queue', 'compute_input', 'compute_infer', 'compute_output', 'cache_hit', 'cache_miss']) {
      expect(Number.isInteger(s.inference_stats[key].count)).toBe(true);
      expect(Number.isInteger(s.inference_stats[key].ns)).toBe(true);
    }
    expect(s.inference_stats.success.count).toBe(1);
    const all = await a.inject({ method: 'GET', url: '/v2/models/stats' });
    expect(all.json().model_stats.map((m: { name: string }) => m.name).sort()).toEqual(['other', 'simple']);
    const versioned = await a.inject({ method: 'GET', url: '/v2/models/simple/versions/1/stats' });
    expect(versioned.json().model_stats).toHaveLength(1);
  });
});

describe('repository', () => {
  it('lists the index, optionally ready only', async () => {
    const a = appWith(new FakeCatalog().add(sumModel()).addUnavailable('broken', 'no file'));
    const res = await a.inject({ method: 'POST', url: '/v2/repository/index' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([
      { name: 'broken', state: 'UNAVAILABLE', reason: 'no file' },
      { name: 'simple', version: '1', state: 'READY' },
    ]);
    const ready = await a.inject({ method: 'POST', url: '/v2/repository/index', payload: '{"ready":true}' });
    expect(ready.json()).toEqual([{ name: 'simple', version: '1', state: 'READY' }]);
  });

  it('refuses load/unload in control mode none with 503', async () => {
    const a = appWith(new FakeCatalog().add(sumModel()));
    const res = await a.inject({ method: 'POST', url: '/v2/repository/models/simple/load' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ error: 'explicit model load / unload is not allowed if polling is enabled' });
  });

  it('loads and unloads in explicit mode with 200 and an empty body', async () => {
    const catalog = new FakeCatalog(true).add(sumModel());
    const a = appWith(catalog);
    const load = await a.inject({ method: 'POST', url: '/v2/repository/models/simple/load', payload: '{}' });
    expect(load.statusCode).toBe(200);
    expect(load.body).toBe('');
    expect(catalog.loaded).toEqual(['simple']);
    const unload = await a.inject({ method: 'POST', url: '/v2/repository/models/simple/unload', payload: '{"parameters":{"unload_dependents":false}}' });
    expect(unload.statusCode).toBe(200);
    expect(catalog.unloaded).toEqual(['simple']);
    const override = await a.inject({ method: 'POST', url: '/v2/repository/models/simple/load', payload: '{"parameters":{"config":"{}"}}' });
    expect(override.statusCode).toBe(501);
  });
});

describe('unknown paths and methods', () => {
  it('answers 404 {"error":"Not Found"} and 405 {"error":"Method Not Allowed"}', async () => {
    const a = appWith(new FakeCatalog().add(sumModel()));
    const notFound = await a.inject({ method: 'GET', url: '/v2/nothing/here' });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.headers['content-type']).toBe('application/json');
    expect(notFound.json()).toEqual({ error: 'Not Found' });
    for (const [method, url] of [['POST', '/v2/health/live'], ['GET', '/v2/models/simple/infer'], ['DELETE', '/v2'], ['GET', '/v2/repository/index']] as const) {
      const res = await a.inject({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(405);
      expect(res.json()).toEqual({ error: 'Method Not Allowed' });
    }
  });

  it('never leaks a stack trace', async () => {
    const catalog = new FakeCatalog().add(sumModel());
    catalog.index = () => {
      throw new Error('catalog exploded');
    };
    const res = await appWith(catalog).inject({ method: 'POST', url: '/v2/repository/index' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'catalog exploded' });
  });
});

describe('on a real socket', () => {
  it('serves the Python client\'s bare requests (no Content-Type, no Content-Length) with Content-Length, keep-alive', async () => {
    const a = appWith(new FakeCatalog().add(sumModel()));
    await a.listen({ port: 0, host: '127.0.0.1' });
    const port = (a.server.address() as net.AddressInfo).port;
    const json = JSON.stringify({
      inputs: [
        { name: 'INPUT0', shape: [1, 16], datatype: 'INT32', parameters: { binary_data_size: 64 } },
        { name: 'INPUT1', shape: [1, 16], datatype: 'INT32', parameters: { binary_data_size: 64 } },
      ],
      outputs: [{ name: 'OUTPUT0', parameters: { binary_data: true } }],
    });
    const a0 = Buffer.alloc(64);
    const a1 = Buffer.alloc(64);
    for (let i = 0; i < 16; i++) {
      a0.writeInt32LE(i, i * 4);
      a1.writeInt32LE(100, i * 4);
    }
    const body = Buffer.concat([Buffer.from(json), a0, a1]);
    const raw = Buffer.concat([
      Buffer.from('POST /v2/repository/index HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: python/gevent-http-client-2.0\r\n\r\n'),
      Buffer.from(
        `POST /v2/models/simple/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: python/gevent-http-client-2.0\r\n` +
          `Inference-Header-Content-Length: ${Buffer.byteLength(json)}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      ),
      body,
    ]);
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = net.connect(port, '127.0.0.1', () => socket.end(raw));
      socket.on('data', (c) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks)));
      socket.on('error', reject);
    });
    // Two responses on one connection, each framed by Content-Length.
    const first = reply.indexOf('\r\n\r\n');
    const head1 = reply.subarray(0, first).toString();
    expect(head1).toMatch(/^HTTP\/1\.1 200/);
    const len1 = Number(/^content-length: (\d+)/im.exec(head1)?.[1]);
    const body1 = reply.subarray(first + 4, first + 4 + len1);
    expect(JSON.parse(body1.toString())).toEqual([{ name: 'simple', version: '1', state: 'READY' }]);
    const rest = reply.subarray(first + 4 + len1);
    const second = rest.indexOf('\r\n\r\n');
    const head2 = rest.subarray(0, second).toString();
    expect(head2).toMatch(/^HTTP\/1\.1 200/);
    expect(head2).toMatch(/content-type: application\/octet-stream/i);
    const len2 = Number(/^content-length: (\d+)/im.exec(head2)?.[1]);
    const hl = Number(/inference-header-content-length: (\d+)/i.exec(head2)?.[1]);
    const body2 = rest.subarray(second + 4, second + 4 + len2);
    expect(body2.length).toBe(len2);
    const header = JSON.parse(body2.subarray(0, hl).toString());
    expect(header.outputs).toEqual([{ name: 'OUTPUT0', datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: 64 } }]);
    expect(body2.readInt32LE(hl + 15 * 4)).toBe(115);
  });
});

/** Sends `text` on a fresh connection and resolves with everything the server wrote back. */
function exchange(port: number, text: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.end(text));
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

describe('response and request headers on a real socket', () => {
  it('writes Inference-Header-Content-Length capitalized, as Triton does', async () => {
    const a = appWith(new FakeCatalog().add(sumModel()));
    await a.listen({ port: 0, host: '127.0.0.1' });
    const port = (a.server.address() as net.AddressInfo).port;
    const json = JSON.stringify({
      inputs: [
        { name: 'INPUT0', shape: [1, 16], datatype: 'INT32', data: Array(16).fill(1) },
        { name: 'INPUT1', shape: [1, 16], datatype: 'INT32', data: Array(16).fill(2) },
      ],
      parameters: { binary_data_output: true },
    });
    const reply = await exchange(
      port,
      `POST /v2/models/simple/infer HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
    );
    const head = reply.slice(0, reply.indexOf('\r\n\r\n'));
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(head).toMatch(/\r\nInference-Header-Content-Length: \d+\r\n/);
  });

  it('serves a request whose Expect header is empty instead of answering 417', async () => {
    const a = appWith(new FakeCatalog().add(sumModel()));
    await a.listen({ port: 0, host: '127.0.0.1' });
    const port = (a.server.address() as net.AddressInfo).port;
    const reply = await exchange(port, 'GET /v2/health/live HTTP/1.1\r\nHost: x\r\nExpect:\r\nConnection: close\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
  });
});
