/**
 * Resource bounds of the HTTP endpoint (issue 9): what one request may cost in memory and time. Each
 * hostile request is refused before the server builds what it asks for, the server keeps answering,
 * stalled uploads are dropped with 408, a client that hangs up stops its queued request, and the
 * response size is bounded.
 */
import net from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../../../src/core/tensor/tensor.js';
import { DataPlane } from '../../../src/server/dataplane.js';
import { createHttpApp } from '../../../src/server/http/app.js';
import type { HttpLimits } from '../../../src/server/http/limits.js';
import { anyShapeModel, FakeCatalog, fakeModel, type FakeModel } from '../../fixtures/fake-models.js';
import { expectNoStack } from '../../fixtures/hostile.js';

const MB = 1024 * 1024;

function errorOf(res: LightMyRequestResponse, status = 400): string {
  expect(res.statusCode, res.body.slice(0, 300)).toBe(status);
  const message = (JSON.parse(res.body) as { error: string }).error;
  expectNoStack(message);
  return message;
}

async function expectHealthy(app: FastifyInstance): Promise<void> {
  expect((await app.inject({ method: 'GET', url: '/v2/health/live' })).statusCode).toBe(200);
  expect((await app.inject({ method: 'GET', url: '/v2/health/ready' })).statusCode).toBe(200);
}

/** `[{},{},…]` of about `bytes` bytes, gzipped: a few hundred KB that would build millions of objects. */
function objectArrayBomb(bytes: number): Buffer {
  const body = Buffer.alloc(bytes).fill('{},');
  body[0] = 0x5b;
  body[body.length - 1] = 0x5d;
  body[body.length - 2] = 0x7d;
  body[body.length - 3] = 0x7b;
  return gzipSync(body, { level: 9 });
}

/** A model that holds executions until `release()`: requests behind it stay queued. */
function gatedModel(): { model: FakeModel; release: () => void } {
  let open: () => void = () => {};
  const gate = new Promise<void>((r) => (open = r));
  const model = fakeModel({
    name: 'gated',
    maxBatchSize: 0,
    inputs: [{ name: 'IN', dtype: 'FP32', shape: [1] }],
    outputs: [{ name: 'OUT', dtype: 'FP32', shape: [1] }],
    compute: async (inputs) => {
      await gate;
      return [{ ...(inputs[0] as Tensor), name: 'OUT' }];
    },
  });
  return { model, release: () => open() };
}

function appWith(catalog: FakeCatalog, limits: Partial<HttpLimits> = {}): FastifyInstance {
  return createHttpApp({ dataplane: new DataPlane({ catalog }), limits });
}

describe('JSON amplification', () => {
  let app: FastifyInstance;
  beforeAll(() => {
    app = appWith(new FakeCatalog(true).add(anyShapeModel()));
  });
  afterAll(() => app.close());

  it('refuses a gzip bomb of [{},{},…] that inflates past --http-max-json, and keeps serving', async () => {
    const bomb = objectArrayBomb(80 * MB);
    expect(bomb.length).toBeLessThan(400 * 1024);
    const started = Date.now();
    const res = await app.inject({ method: 'POST', url: '/v2/models/any/infer', payload: bomb, headers: { 'content-encoding': 'gzip' } });
    expect(errorOf(res)).toMatch(/over the server limit of 67108864 bytes \(--http-max-json\)/);
    // Generous: only says it was not an unbounded parse (that took minutes and 6 GB).
    expect(Date.now() - started).toBeLessThan(30_000);
    await expectHealthy(app);
  });

  it('refuses [{},{},…] under the byte limits by its value count, before JSON.parse builds it', async () => {
    const bomb = objectArrayBomb(6 * MB);
    const before = process.memoryUsage().heapUsed;
    const res = await app.inject({ method: 'POST', url: '/v2/models/any/infer', payload: bomb, headers: { 'content-encoding': 'gzip' } });
    expect(errorOf(res)).toBe('the number of values in the request JSON is over the server limit of 1000000 (--http-max-json-values)');
    // Two million empty objects would take well over 100 MB of heap.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * MB);
    await expectHealthy(app);
  });

  it('bounds the repository routes with --http-max-control-body, compressed or not', async () => {
    for (const url of ['/v2/repository/index', '/v2/repository/models/any/load', '/v2/repository/models/any/unload']) {
      const gz = await app.inject({ method: 'POST', url, payload: objectArrayBomb(6 * MB), headers: { 'content-encoding': 'gzip' } });
      expect(errorOf(gz), url).toBe(`the body of POST ${url} is over the server limit of 1048576 bytes (--http-max-control-body)`);
      const plain = await app.inject({ method: 'POST', url, payload: Buffer.alloc(2 * MB, 0x20) });
      expect(errorOf(plain), url).toMatch(/--http-max-control-body/);
    }
    // A load with a config parameter fits.
    const config = JSON.stringify({ parameters: { config: JSON.stringify({ max_batch_size: 8, input: [{ name: 'IN', dims: [3, 224, 224] }] }) } });
    const load = await app.inject({ method: 'POST', url: '/v2/repository/models/any/load', payload: config });
    expect(errorOf(load, 501)).toMatch(/config/);
    await expectHealthy(app);
  });

  it('refuses deep nesting on every route by --http-max-json-depth', async () => {
    const deepArray = '['.repeat(500_000) + ']'.repeat(500_000);
    expect(errorOf(await app.inject({ method: 'POST', url: '/v2/repository/index', payload: '['.repeat(100_000) }))).toMatch(/--http-max-json-depth/);
    expect(errorOf(await app.inject({ method: 'POST', url: '/v2/models/any/infer', payload: deepArray }))).toBe(
      'the nesting depth of the request JSON is over the server limit of 64 (--http-max-json-depth)',
    );
    const deepParams = `{"inputs":[],"parameters":${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}}`;
    expect(errorOf(await app.inject({ method: 'POST', url: '/v2/models/any/infer', payload: deepParams }))).toMatch(/nesting depth/);
    await expectHealthy(app);
  });

  it('decodes a large legal number array into the tensor without a JS array per element', async () => {
    const n = 2_000_000;
    const values = Array.from({ length: n }, (_, i) => (i % 1000) / 8);
    const json = Buffer.from(
      JSON.stringify({ inputs: [{ name: 'IN', datatype: 'FP32', shape: [1, n], data: values }], parameters: { binary_data_output: true } }),
    );
    let peak = 0;
    const base = process.memoryUsage().heapUsed;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed - base)), 1);
    let healthyWhileRunning = 0;
    let done = false;
    const infer = app.inject({ method: 'POST', url: '/v2/models/any/infer', payload: json }).finally(() => (done = true));
    // The scan and the decoding yield: other requests are answered meanwhile.
    while (!done) {
      // A timer between checks, as network I/O would: inject alone never leaves the microtask queue.
      await new Promise((r) => setTimeout(r, 2));
      const h = await app.inject({ method: 'GET', url: '/v2/health/live' });
      if (!done && h.statusCode === 200) healthyWhileRunning++;
    }
    const res = await infer;
    clearInterval(sampler);
    expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
    const headerLength = Number(res.headers['inference-header-content-length']);
    const out = new Float32Array(res.rawPayload.buffer.slice(res.rawPayload.byteOffset + headerLength, res.rawPayload.byteOffset + res.rawPayload.length));
    expect(out.length).toBe(n);
    expect(out[1]).toBe(values[1]);
    expect(out[n - 1]).toBe(values[n - 1]);
    expect(healthyWhileRunning).toBeGreaterThan(0);
    // JSON.parse + a flat copy of 2M numbers peaks at well over 100 MB of heap; the bytes stay
    // outside the heap here.
    expect(peak).toBeLessThan(16 * MB);
  });
});

describe('timeouts on a real socket', () => {
  let app: FastifyInstance;
  let port = 0;
  beforeAll(async () => {
    app = appWith(new FakeCatalog().add(anyShapeModel()), { bodyTimeoutMs: 400, requestTimeoutMs: 1500 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as net.AddressInfo).port;
  });
  afterAll(() => app.close());

  /** Sends `head` and `parts` (with `gapMs` between parts); resolves with what came back once the server closes. */
  function rawExchange(head: string, parts: Buffer[], gapMs: number): Promise<{ text: string; ms: number }> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const socket = net.connect(port, '127.0.0.1');
      const received: Buffer[] = [];
      let timer: NodeJS.Timeout | undefined;
      socket.on('data', (d) => received.push(d));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ text: Buffer.concat(received).toString('latin1'), ms: Date.now() - started });
      });
      socket.setTimeout(15_000, () => {
        socket.destroy();
        reject(new Error('the server never closed the stalled connection'));
      });
      socket.write(head);
      let i = 0;
      const next = () => {
        if (i >= parts.length || socket.destroyed) return;
        socket.write(parts[i++]);
        timer = setTimeout(next, gapMs);
      };
      next();
    });
  }

  it('drops an upload that stalls half-way with 408 and closes the connection', async () => {
    const head = `POST /v2/models/any/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n`;
    const { text } = await rawExchange(head, [Buffer.alloc(50_000, 0x20)], 60_000);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toMatch(/--http-body-timeout-secs/);
    expect((await app.inject({ method: 'GET', url: '/v2/health/live' })).statusCode).toBe(200);
  });

  it('drops a trickling upload once the whole request takes longer than --http-request-timeout-secs', async () => {
    const head = `POST /v2/models/any/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n`;
    // A byte every 100 ms never trips the pause timeout, only the whole-request one.
    const { text } = await rawExchange(head, Array.from({ length: 100 }, () => Buffer.from(' ')), 100);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('still serves a body that arrives in pieces without long pauses', async () => {
    const body = Buffer.from(JSON.stringify({ inputs: [{ name: 'IN', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] }));
    const head = `POST /v2/models/any/infer HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`;
    const { text } = await rawExchange(head, [body.subarray(0, 10), body.subarray(10)], 100);
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('client cancellation over HTTP', () => {
  it('drops a queued request whose client closed the connection, counts it as CANCELED, and never runs it', async () => {
    const gated = gatedModel();
    const app = appWith(new FakeCatalog().add(gated.model));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as net.AddressInfo;
    try {
      const body = (v: number) => JSON.stringify({ inputs: [{ name: 'IN', datatype: 'FP32', shape: [1], data: [v] }] });
      const url = `http://127.0.0.1:${port}/v2/models/gated/infer`;
      const first = fetch(url, { method: 'POST', body: body(1) });
      const waitFor = async (cond: () => boolean) => {
        for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
        expect(cond()).toBe(true);
      };
      await waitFor(() => gated.model.sessions[0].runs.length === 1);
      // The second request queues behind the first; its client then hangs up.
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      const payload = body(2);
      socket.write(`POST /v2/models/gated/infer HTTP/1.1\r\nHost: x\r\nContent-Length: ${payload.length}\r\n\r\n${payload}`);
      await waitFor(() => gated.model.stats.snapshot().pending === 2);
      socket.destroy();
      await waitFor(() => gated.model.stats.snapshot().failures_by_reason.CANCELED === 1);
      gated.release();
      expect((await first).status).toBe(200);
      const third = await fetch(url, { method: 'POST', body: body(3) });
      expect(third.status).toBe(200);
      // Runs: the first and the third; the cancelled one never reached the model.
      const ran = gated.model.sessions[0].runs.map((r) => new Float32Array(r.inputs[0].data.slice().buffer)[0]);
      expect(ran).toEqual([1, 3]);
      expect(gated.model.stats.snapshot().pending).toBe(0);
    } finally {
      gated.release();
      await app.close();
    }
  });
});

describe('response size', () => {
  let app: FastifyInstance;
  beforeAll(() => {
    app = appWith(new FakeCatalog().add(anyShapeModel()), { maxResponse: 64 * 1024 });
  });
  afterAll(() => app.close());

  const request = (n: number, binary: boolean) =>
    app.inject({
      method: 'POST',
      url: '/v2/models/any/infer',
      payload: JSON.stringify({
        inputs: [{ name: 'IN', datatype: 'FP32', shape: [1, n], data: Array.from({ length: n }, (_, i) => i / 3) }],
        parameters: { binary_data_output: binary },
      }),
    });

  it('refuses a response over --http-max-response-body, naming the output, its size and the flag', async () => {
    expect(errorOf(await request(20_000, true))).toBe(
      "output 'OUT' (80000 bytes as binary data) makes the response larger than the server limit of 65536 bytes (--http-max-response-body)",
    );
    expect(errorOf(await request(10_000, false))).toBe(
      "output 'OUT' (10000 FP32 elements as JSON, 40000 bytes as binary data) makes the response larger than the server limit of 65536 bytes (--http-max-response-body)",
    );
    // The same output fits as binary.
    expect((await request(10_000, true)).statusCode).toBe(200);
  });
});

describe('large responses', () => {
  let app: FastifyInstance;
  beforeAll(() => {
    app = appWith(new FakeCatalog().add(anyShapeModel()));
  });
  afterAll(() => app.close());

  it('streams a JSON response of several chunks intact, plain and gzip', async () => {
    const n = 300_000;
    const payload = JSON.stringify({ inputs: [{ name: 'IN', datatype: 'FP32', shape: [1, n], data: Array.from({ length: n }, (_, i) => i / 7) }] });
    const expected = Array.from(new Float32Array(Array.from({ length: n }, (_, i) => i / 7)));
    const plain = await app.inject({ method: 'POST', url: '/v2/models/any/infer', payload });
    expect(plain.statusCode).toBe(200);
    expect(Number(plain.headers['content-length'])).toBe(plain.rawPayload.length);
    expect(plain.rawPayload.length).toBeGreaterThan(2 * MB);
    const data = JSON.parse(plain.body).outputs[0].data as number[];
    expect(data.length).toBe(n);
    // Element by element: deep equality of 300,000 elements is slow in the matcher.
    expect(data.findIndex((v, i) => v !== expected[i])).toBe(-1);
    const zipped = await app.inject({ method: 'POST', url: '/v2/models/any/infer', payload, headers: { 'accept-encoding': 'gzip' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.rawPayload).equals(plain.rawPayload)).toBe(true);
  });
});
