import * as grpc from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { HEALTH_SERVICE, INFERENCE_SERVICE, serviceDefinition } from '../../../src/protocol/grpc-schema.js';
import { DataPlane } from '../../../src/server/dataplane.js';
import { createGrpcServer, type GrpcServer } from '../../../src/server/grpc/server.js';
import { grpcApiOf } from '../../../src/server/grpc/restricted-api.js';
import { createHttpApp } from '../../../src/server/http/app.js';
import { applyHttpRestrictions, httpApiOf } from '../../../src/server/http/restricted-api.js';
import { parseRestrictions, RESTRICTED_APIS } from '../../../src/server/restricted-api.js';
import { FakeCatalog, sumModel } from '../../fixtures/fake-models.js';

/** Triton's --http-restricted-api / --grpc-restricted-protocol: parsing, groups, HTTP 403, gRPC UNAVAILABLE. */

const ADMIN = 'model-repository,model-config,statistics:admin-key=s3cret';

describe('parseRestrictions', () => {
  it("reads Triton's spec into one entry per API (HTTP header as given, lower-cased)", () => {
    const r = parseRestrictions('--http-restricted-api', [ADMIN, 'inference:Infer-Key=a=b']);
    expect([...r.keys()]).toEqual(['model-repository', 'model-config', 'statistics', 'inference']);
    expect(r.get('model-config')).toEqual({ header: 'admin-key', value: 's3cret' });
    // the value is everything after the first '=' following the colon
    expect(r.get('inference')).toEqual({ header: 'infer-key', value: 'a=b' });
  });

  it('prefixes gRPC keys with triton-grpc-protocol-', () => {
    expect(parseRestrictions('--grpc-restricted-protocol', ['inference:infer-key=v']).get('inference')?.header).toBe('triton-grpc-protocol-infer-key');
  });

  it('knows exactly the nine Triton groups', () => {
    expect(RESTRICTED_APIS).toEqual(['health', 'metadata', 'inference', 'shared-memory', 'model-config', 'model-repository', 'statistics', 'trace', 'logging']);
  });

  it.each([
    ['inference', /expects <api>\[,<api>…\]:<key>=<value>.*got 'inference'/],
    ['inference:key', /got 'inference:key'/],
    [':k=v', /got ':k=v'/],
    ['inference:=v', /got 'inference:=v'/],
    ['infer:k=v', /unknown API 'infer'; the groups are health, metadata/],
    ['inference:bad key=v', /'bad key' cannot be a header name/],
  ])('refuses %s naming the flag', (spec, message) => {
    expect(() => parseRestrictions('--http-restricted-api', [spec])).toThrow(message);
    expect(() => parseRestrictions('--http-restricted-api', [spec])).toThrow(/--http-restricted-api/);
  });

  it('refuses an API in two groups', () => {
    expect(() => parseRestrictions('--grpc-restricted-protocol', ['inference:a=1', 'health,inference:b=2'])).toThrow(
      "--grpc-restricted-protocol: API 'inference' is in more than one group",
    );
  });
});

describe('API groups of HTTP paths and gRPC methods', () => {
  it.each([
    ['/v2/health/live', 'health'],
    ['/v2/health/ready', 'health'],
    ['/v2/models/m/ready', 'health'],
    ['/v2/models/m/versions/3/ready', 'health'],
    ['/v2', 'metadata'],
    ['/v2/models/m', 'metadata'],
    ['/v2/models/m/versions/1', 'metadata'],
    ['/v2/models/m/infer', 'inference'],
    ['/v2/models/m/versions/1/infer?x=1', 'inference'],
    ['/v2/models/m/config', 'model-config'],
    ['/v2/models/stats', 'statistics'],
    ['/v2/models/m/stats', 'statistics'],
    ['/v2/repository/index', 'model-repository'],
    ['/v2/repository/models/m/load', 'model-repository'],
    ['/v2/systemsharedmemory/status', 'shared-memory'],
    ['/v2/trace/setting', 'trace'],
    ['/v2/logging', 'logging'],
    ['/console/api/latency', 'statistics'],
    ['/console/api/latency?t=1', 'statistics'],
    ['/console', undefined],
    ['/console/settings.json', undefined],
    ['/v3', undefined],
    ['/metrics', undefined],
  ])('%s → %s', (url, api) => {
    expect(httpApiOf(url)).toBe(api);
  });

  it('maps every RPC of both services to a group', () => {
    const rpcs = [...Object.keys(serviceDefinition(INFERENCE_SERVICE)), ...Object.keys(serviceDefinition(HEALTH_SERVICE))];
    for (const rpc of rpcs) expect(grpcApiOf(rpc), rpc).toBeDefined();
    expect(grpcApiOf('ModelInfer')).toBe('inference');
    expect(grpcApiOf('RepositoryModelLoad')).toBe('model-repository');
    expect(grpcApiOf('Check')).toBe('health');
  });
});

describe('HTTP endpoint with --http-restricted-api', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const restrictedApp = () => {
    app = createHttpApp({ dataplane: new DataPlane({ catalog: new FakeCatalog().add(sumModel()) }), bodyLimit: 1 << 20 });
    applyHttpRestrictions(app, parseRestrictions('--http-restricted-api', [ADMIN]));
    return app;
  };

  it("answers 403 with Triton's message without the header, or with a wrong value", async () => {
    const a = restrictedApp();
    for (const headers of [{}, { 'admin-key': 'wrong' }]) {
      for (const [method, url] of [
        ['GET', '/v2/models/simple/config'],
        ['POST', '/v2/repository/index'],
        ['GET', '/v2/models/stats'],
        ['GET', '/v2/models/nope/stats'], // restricted before the model is looked up, as in Triton
        ['DELETE', '/v2/models/simple/config'], // and before the method is
      ] as const) {
        const res = await a.inject({ method, url, headers });
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(res.headers['content-type']).toBe('application/json');
        expect(res.json()).toEqual({ error: "This API is restricted, expecting header 'admin-key'" });
      }
    }
  });

  it('serves the restricted APIs with the right header (any case of its name)', async () => {
    const a = restrictedApp();
    const res = await a.inject({ method: 'GET', url: '/v2/models/simple/config', headers: { 'Admin-Key': 's3cret' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().name).toBe('simple');
    const stats = await a.inject({ method: 'GET', url: '/v2/models/stats', headers: { 'admin-key': 's3cret' } });
    expect(stats.statusCode).toBe(200);
  });

  it('leaves the other groups open', async () => {
    const a = restrictedApp();
    expect((await a.inject({ method: 'GET', url: '/v2/health/ready' })).statusCode).toBe(200);
    expect((await a.inject({ method: 'GET', url: '/v2/models/simple' })).statusCode).toBe(200);
    expect((await a.inject({ method: 'GET', url: '/v2/nothing-here' })).statusCode).toBe(404);
  });
});

describe('gRPC endpoint with --grpc-restricted-protocol', () => {
  let server: GrpcServer | undefined;
  const clients: grpc.Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close();
    server = undefined;
  });

  async function start(): Promise<{ infer: grpc.Client; health: grpc.Client }> {
    server = createGrpcServer({
      dataplane: new DataPlane({ catalog: new FakeCatalog().add(sumModel()) }),
      restrictions: parseRestrictions('--grpc-restricted-protocol', ['inference,model-config:infer-key=k1', 'health:h=k2']),
      shutdownGraceMs: 200,
    });
    const port = await server.listen('127.0.0.1', 0);
    const Infer = grpc.makeGenericClientConstructor(serviceDefinition(INFERENCE_SERVICE), 'GRPCInferenceService');
    const Health = grpc.makeGenericClientConstructor(serviceDefinition(HEALTH_SERVICE), 'Health');
    const infer = new Infer(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const health = new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    clients.push(infer, health);
    return { infer, health };
  }

  const call = (client: grpc.Client, rpc: string, request: object, metadata = new grpc.Metadata()) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const method = (client as unknown as Record<string, (r: object, m: grpc.Metadata, cb: (e: grpc.ServiceError | null, res: Record<string, unknown>) => void) => void>)[rpc];
      method.call(client, request, metadata, (e, res) => (e ? reject(e) : resolve(res)));
    });
  const meta = (key: string, value: string) => {
    const m = new grpc.Metadata();
    m.set(key, value);
    return m;
  };

  it("refuses with UNAVAILABLE and Triton's message, naming the prefixed key", async () => {
    const { infer, health } = await start();
    for (const [client, rpc, request, m] of [
      [infer, 'ModelConfig', { name: 'simple' }, new grpc.Metadata()],
      [infer, 'ModelConfig', { name: 'simple' }, meta('infer-key', 'k1')], // unprefixed key does not count
      [infer, 'ModelConfig', { name: 'simple' }, meta('triton-grpc-protocol-infer-key', 'nope')],
      [infer, 'ServerLive', {}, new grpc.Metadata()],
    ] as const) {
      const err = await call(client, rpc, request, m).then(
        () => undefined,
        (e: grpc.ServiceError) => e,
      );
      expect(err?.code, rpc).toBe(grpc.status.UNAVAILABLE);
    }
    const err = (await call(infer, 'ModelConfig', { name: 'simple' }).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.details).toBe("This protocol is restricted, expecting header 'triton-grpc-protocol-infer-key'");
    const h = (await call(health, 'Check', {}).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(h.code).toBe(grpc.status.UNAVAILABLE);
    expect(h.details).toBe("This protocol is restricted, expecting header 'triton-grpc-protocol-h'");
  });

  it('serves with the right metadata, and leaves other groups open', async () => {
    const { infer, health } = await start();
    const config = await call(infer, 'ModelConfig', { name: 'simple' }, meta('triton-grpc-protocol-infer-key', 'k1'));
    expect((config.config as { name: string }).name).toBe('simple');
    expect(await call(infer, 'ServerLive', {}, meta('triton-grpc-protocol-h', 'k2'))).toEqual({ live: true });
    expect(await call(health, 'Check', {}, meta('triton-grpc-protocol-h', 'k2'))).toMatchObject({ status: 'SERVING' });
    const metadata = await call(infer, 'ServerMetadata', {});
    expect(metadata.name).toBe('triton');
  });

  it('refuses a restricted stream before reading from it', async () => {
    const { infer } = await start();
    const stream = (infer as unknown as { ModelStreamInfer: (m?: grpc.Metadata) => grpc.ClientDuplexStream<object, object> }).ModelStreamInfer();
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      stream.on('error', resolve);
      stream.on('data', () => undefined);
      stream.write({ model_name: 'simple' });
    });
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.details).toContain('triton-grpc-protocol-infer-key');
  });
});
