import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { InferenceServerClient } from '../../../src/client/http-client.js';
import { inferInput } from '../../../src/client/infer-input.js';
import { normalizeServerUrl } from '../../../src/client/server-url.js';
import type { OfsError } from '../../../src/errors.js';
import { binaryReply, bytesTensor, errorReply, jsonReply, startFakeServer, type FakeServer, type Handler } from './fake-triton.js';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(handler: Handler) {
  server = await startFakeServer(handler);
  return { server, client: new InferenceServerClient({ url: server.url }) };
}

async function rejection(p: Promise<unknown>): Promise<OfsError> {
  try {
    await p;
  } catch (e) {
    return e as OfsError;
  }
  throw new Error('expected a rejection');
}

describe('normalizeServerUrl', () => {
  it('adds http:// to host:port and drops trailing slashes', () => {
    expect(normalizeServerUrl('localhost:8000')).toBe('http://localhost:8000');
    expect(normalizeServerUrl('http://10.0.0.1:8000/')).toBe('http://10.0.0.1:8000');
    expect(() => normalizeServerUrl('ftp://x')).toThrow(/http/);
  });
});

describe('InferenceServerClient', () => {
  it('sends the binary tensor extension exactly and decodes a binary response', async () => {
    const classes = bytesTensor(['0.917522:285:Egyptian cat', '0.050000:281:label: with colon']);
    const probs = Buffer.from(Float32Array.of(0.1, 0.9).buffer);
    const { server, client } = await serve(() =>
      binaryReply(
        {
          model_name: 'resnet',
          model_version: '1',
          outputs: [
            { name: 'CLS', datatype: 'BYTES', shape: [1, 2], parameters: { binary_data_size: classes.length } },
            { name: 'PROB', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } },
          ],
        },
        [classes, probs],
      ),
    );
    const result = await client.infer('resnet', [inferInput('INPUT_0', 'FP32', [1, 2], Float32Array.of(0.5, 1))], {
      outputs: [{ name: 'CLS', classCount: 2 }, { name: 'PROB' }],
      version: '1',
    });

    const req = server.requests[0];
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/v2/models/resnet/versions/1/infer');
    const json =
      '{"inputs":[{"name":"INPUT_0","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}}],' +
      '"outputs":[{"name":"CLS","parameters":{"classification":2,"binary_data":true}},{"name":"PROB","parameters":{"binary_data":true}}]}';
    expect(req.headers['inference-header-content-length']).toBe(String(json.length));
    expect(req.headers['content-length']).toBe(String(json.length + 8));
    expect(req.headers['content-type']).toBeUndefined();
    expect(req.headers['accept-encoding']).toBe('identity');
    expect(req.body.subarray(0, json.length).toString()).toBe(json);
    expect(Array.from(req.body.subarray(json.length))).toEqual([0, 0, 0, 0x3f, 0, 0, 0x80, 0x3f]);

    expect(result.asStrings('CLS')).toEqual(['0.917522:285:Egyptian cat', '0.050000:281:label: with colon']);
    expect(Array.from(result.asFloat32('PROB'))).toEqual([Math.fround(0.1), Math.fround(0.9)]);
    expect(result.json.model_name).toBe('resnet');
  });

  it('reuses one keep-alive connection for sequential calls', async () => {
    const { server, client } = await serve(() => ({ status: 200 }));
    for (let i = 0; i < 6; i++) expect(await client.isServerLive()).toBe(true);
    expect(server.requests).toHaveLength(6);
    expect(server.connections()).toBe(1);
  });

  it('sends a prepared request unchanged each time, even after the caller reuses its arrays', async () => {
    const reply = () => binaryReply({ model_name: 'm', model_version: '1', outputs: [{ name: 'Y', datatype: 'FP32', shape: [1], parameters: { binary_data_size: 4 } }] }, [Buffer.from(Float32Array.of(2).buffer)]);
    const { server, client } = await serve(reply);
    const values = Float32Array.of(1, 2);
    const send = client.prepareInfer('m', [inferInput('X', 'FP32', [1, 2], values)], { version: '1' });
    values.fill(7);
    const results = [await send(), await send()];
    expect(results.map((r) => Array.from(r.asFloat32('Y')))).toEqual([[2], [2]]);
    expect(server.requests.map((r) => r.url)).toEqual(['/v2/models/m/versions/1/infer', '/v2/models/m/versions/1/infer']);
    const [a, b] = server.requests.map((r) => r.body);
    expect(Buffer.compare(a as Buffer, b as Buffer)).toBe(0);
    expect(Array.from(new Float32Array(new Uint8Array((a as Buffer).subarray((a as Buffer).length - 8)).buffer))).toEqual([1, 2]);
  });

  it('opens no new socket after close() until asked, and keeps working', async () => {
    const { server, client } = await serve(() => ({ status: 200 }));
    expect(await client.isServerLive()).toBe(true);
    client.close();
    expect(await client.isServerLive()).toBe(true);
    expect(server.connections()).toBe(2);
  });

  it('answers health, metadata, config, index and stats on the right paths', async () => {
    const { server, client } = await serve((req) => {
      switch (`${req.method} ${req.url}`) {
        case 'GET /v2/health/live':
          return { status: 200 };
        case 'GET /v2/health/ready':
          return { status: 400 };
        case 'GET /v2/models/m/versions/2/ready':
          return errorReply(400, 'Model version not ready');
        case 'GET /v2':
          return jsonReply({ name: 'triton', version: '2.0', extensions: ['statistics'] });
        case 'GET /v2/models/m':
          return jsonReply({ name: 'm', platform: 'p', inputs: [], outputs: [] });
        case 'GET /v2/models/m/config':
          return jsonReply({ name: 'm', max_batch_size: 4 });
        case 'POST /v2/repository/index':
          return jsonReply([{ name: 'm', version: '1', state: 'READY' }]);
        case 'GET /v2/models/stats':
          return jsonReply({ model_stats: [] });
        default:
          return errorReply(404, 'Not Found');
      }
    });
    expect(await client.isServerLive()).toBe(true);
    expect(await client.isServerReady()).toBe(false);
    expect(await client.isModelReady('m', '2')).toBe(false);
    expect((await client.getServerMetadata()).extensions).toEqual(['statistics']);
    expect((await client.getModelMetadata('m')).platform).toBe('p');
    expect((await client.getModelConfig('m')).max_batch_size).toBe(4);
    expect(await client.getModelRepositoryIndex()).toEqual([{ name: 'm', version: '1', state: 'READY' }]);
    expect(await client.getInferenceStatistics()).toEqual({ model_stats: [] });
    const index = server.requests.find((r) => r.url === '/v2/repository/index');
    expect(index?.body.length).toBe(0);
  });

  it('turns an error JSON into OFS_SERVER_ERROR with the server message', async () => {
    const { client } = await serve(() => errorReply(400, "Request for unknown model: 'nope' is not found"));
    const e = await rejection(client.getModelMetadata('nope'));
    expect(e.code).toBe('OFS_SERVER_ERROR');
    expect(e.message).toBe("server answered 400: Request for unknown model: 'nope' is not found");
  });

  it('keeps a non-JSON error body readable', async () => {
    const { client } = await serve(() => ({ status: 502, body: 'Bad Gateway' }));
    const e = await rejection(client.infer('m', [inferInput('X', 'FP32', [1], Float32Array.of(1))]));
    expect(e.code).toBe('OFS_SERVER_ERROR');
    expect(e.message).toContain('502: Bad Gateway');
  });

  it('reports a closed port as OFS_SERVER_UNREACHABLE', async () => {
    const { server } = await serve(() => ({ status: 200 }));
    const url = server.url;
    await server.close();
    const e = await rejection(new InferenceServerClient({ url }).isServerLive());
    expect(e.code).toBe('OFS_SERVER_UNREACHABLE');
    expect(e.message).toBe(`cannot reach the server at http://${url}: connection refused`);
  });

  it('reports a server that never answers as OFS_SERVER_UNREACHABLE after the timeout', async () => {
    const { server } = await serve(() => new Promise((r) => setTimeout(() => r({ status: 200 }), 1000)));
    const client = new InferenceServerClient({ url: server.url, timeoutMs: 100 });
    const e = await rejection(client.isServerLive());
    expect(e.code).toBe('OFS_SERVER_UNREACHABLE');
    expect(e.message).toContain('no answer within 100 ms');
  });

  it('says when the server closes the connection before answering, or in the middle of its answer', async () => {
    const raw = async (handle: (res: import('node:http').ServerResponse) => void): Promise<Server> => {
      const srv = createServer((req, res) => {
        req.resume();
        req.on('end', () => handle(res));
      });
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      return srv;
    };
    const before = await raw((res) => res.socket?.destroy());
    const middle = await raw((res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('{"partial":');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    try {
      const url = (srv: Server) => `127.0.0.1:${(srv.address() as AddressInfo).port}`;
      const e1 = await rejection(new InferenceServerClient({ url: url(before) }).getServerMetadata());
      expect(e1.code).toBe('OFS_SERVER_UNREACHABLE');
      expect(e1.message).toContain('the server closed the connection without answering');
      const e2 = await rejection(new InferenceServerClient({ url: url(middle) }).getServerMetadata());
      expect(e2.code).toBe('OFS_SERVER_UNREACHABLE');
      expect(e2.message).toContain('the server closed the connection in the middle of its response');
    } finally {
      before.close();
      middle.close();
    }
  });

  it('reads a compressed answer from a server that ignores Accept-Encoding: identity', async () => {
    const { client } = await serve(() => ({ status: 200, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync('{"name":"triton","version":"2","extensions":[]}') }));
    expect((await client.getServerMetadata()).name).toBe('triton');
  });
});
