import { EventEmitter, once } from 'node:events';
import { connect } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { InferenceServerClient } from '../../../../src/client/http-client.js';
import { inferInput } from '../../../../src/client/infer-input.js';
import { DataPlane } from '../../../../src/server/dataplane.js';
import { createHttpApp } from '../../../../src/server/http/app.js';
import { BodyBuffers, POOLED_BODY_MIN } from '../../../../src/server/http/body-lease.js';
import { FakeCatalog, identityModel } from '../../../fixtures/fake-models.js';

class FakeResponse extends EventEmitter {
  closed = false;
  close(): void {
    this.closed = true;
    this.emit('close');
  }
}
const asResponse = (r: FakeResponse) => r as unknown as ServerResponse;
const request = () => new EventEmitter() as unknown as IncomingMessage;

describe('BodyBuffers', () => {
  it('pools only large bodies, in capacities rounded up so nearly equal sizes share a buffer', () => {
    const bodies = new BodyBuffers();
    expect(bodies.take(POOLED_BODY_MIN - 1)).toBeUndefined();
    const a = bodies.take(602_309) as ArrayBuffer;
    expect(a.byteLength).toBeGreaterThanOrEqual(602_309);
    bodies.giveBack(a);
    expect(bodies.take(602_400)).toBe(a);
  });

  it('reuses a body buffer only after both the handler has finished and the response has closed', () => {
    const bodies = new BodyBuffers();
    for (const order of [['handler', 'response'], ['response', 'handler']] as const) {
      const buffer = bodies.take(100_000) as ArrayBuffer;
      const req = request();
      bodies.lend(req, buffer);
      const res = new FakeResponse();
      const lease = bodies.lease(req);
      lease?.watch(asResponse(res));
      const finish = { handler: () => lease?.release('handler'), response: () => res.close() };
      finish[order[0]]();
      lease?.release(order[0] === 'handler' ? 'handler' : 'response');
      // One party done (twice over): the buffer is still the request's.
      expect(bodies.take(100_000)).not.toBe(buffer);
      finish[order[1]]();
      expect(bodies.take(100_000)).toBe(buffer);
    }
  });

  it('counts a response that closed before the handler ran', () => {
    const bodies = new BodyBuffers();
    const buffer = bodies.take(100_000) as ArrayBuffer;
    const req = request();
    bodies.lend(req, buffer);
    const res = new FakeResponse();
    res.close();
    bodies.lease(req)?.watch(asResponse(res));
    bodies.lease(req)?.release('handler');
    expect(bodies.take(100_000)).toBe(buffer);
  });
});

describe('pooled request bodies over a real socket', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('answers every request with its own values while bodies are reused, concurrent and batched', async () => {
    const width = 150_000; // 600 KB of FP32 per request, like a ResNet-50 image
    const model = identityModel({ width, maxBatchSize: 8, dynamicBatching: { max_queue_delay_microseconds: 2000 } });
    app = createHttpApp({ dataplane: new DataPlane({ catalog: new FakeCatalog().add(model) }), bodyLimit: 8 * 1024 * 1024 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const client = new InferenceServerClient({ url: `127.0.0.1:${port}` });
    const lend = vi.spyOn(BodyBuffers.prototype, 'lend');
    try {
      for (let round = 0; round < 3; round++) {
        const values = Array.from({ length: 6 }, (_, i) => round * 10 + i + 1);
        const results = await Promise.all(values.map((v) => client.infer('identity', [inferInput('INPUT', 'FP32', [1, width], new Float32Array(width).fill(v))])));
        results.forEach((r, i) => {
          const out = r.asFloat32('OUTPUT');
          expect(out.length).toBe(width);
          expect(out[0]).toBe(values[i]);
          expect(out[width - 1]).toBe(values[i]);
          expect(out.every((x) => x === values[i])).toBe(true);
        });
      }
      // The bodies really went through the pool, and later rounds read into buffers earlier ones gave back.
      const lent = lend.mock.calls.map(([, buffer]) => buffer);
      expect(lent).toHaveLength(18);
      expect(new Set(lent).size).toBeLessThan(lent.length);
    } finally {
      lend.mockRestore();
      client.close();
    }
  });

  it('takes no pooled buffer for a declared length until the whole body is in (a hostile client holds only what it sent)', async () => {
    const model = identityModel({ width: 150_000, maxBatchSize: 8 });
    app = createHttpApp({ dataplane: new DataPlane({ catalog: new FakeCatalog().add(model) }), bodyLimit: 8 * 1024 * 1024 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const take = vi.spyOn(BodyBuffers.prototype, 'take');
    const socket = connect(port, '127.0.0.1');
    try {
      await once(socket, 'connect');
      const header = JSON.stringify({ inputs: [{ name: 'INPUT', shape: [1, 150_000], datatype: 'FP32', parameters: { binary_data_size: 600_000 } }] });
      const total = header.length + 600_000;
      socket.write(`POST /v2/models/identity/infer HTTP/1.1\r\nHost: x\r\nInference-Header-Content-Length: ${header.length}\r\nContent-Length: ${total}\r\n\r\n${header}`);
      socket.write(Buffer.alloc(200_000));
      await new Promise((r) => setTimeout(r, 100));
      expect(take).not.toHaveBeenCalled();
      socket.write(Buffer.alloc(400_000));
      const reply = once(socket, 'data');
      await reply;
      expect(take).toHaveBeenCalledTimes(1);
      expect(take.mock.calls[0]?.[0]).toBe(total);
    } finally {
      take.mockRestore();
      socket.destroy();
    }
  });
});
