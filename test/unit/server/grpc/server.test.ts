import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataPlane } from '../../../../src/server/dataplane.js';
import { CONNECTION_WINDOW_BYTES, createGrpcServer, STREAM_WINDOW_BYTES, type GrpcServer } from '../../../../src/server/grpc/server.js';
import { classifierModel, FakeCatalog, identityModel, slowModel, sumModel } from '../../../fixtures/fake-models.js';
import { connect, statusOf, type TestClient } from './grpc-client.js';
import { handEncodedInferRequest, readLengthDelimited, readString } from './wire.js';

// grpc status codes (grpc/doc/statuscodes.md).
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const UNIMPLEMENTED = 12;
const UNAVAILABLE = 14;

// Decoded messages are checked field by field; their static type is not the point here.
type Json = Record<string, any>;

const int32Bytes = (values: number[]) => new Uint8Array(Int32Array.from(values).buffer);
const f32Bytes = (values: ArrayLike<number>) => new Uint8Array(Float32Array.from(values).buffer);
const readInt32 = (b: Uint8Array) => Array.from(new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
const readF32 = (b: Uint8Array) => Array.from(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));

/** Triton's BYTES layout, decoded here by hand: per element a uint32 LE length, then the bytes. */
function readStrings(b: Uint8Array): string[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: string[] = [];
  for (let at = 0; at < b.length; ) {
    const n = view.getUint32(at, true);
    out.push(Buffer.from(b.subarray(at + 4, at + 4 + n)).toString('utf8'));
    at += 4 + n;
  }
  return out;
}

const range16 = Array.from({ length: 16 }, (_, i) => i);
const ones16 = Array.from({ length: 16 }, () => 1);

function sumRequest(model: string, batch: number, extra: Json = {}): Json {
  const a = Array.from({ length: batch }, () => range16).flat();
  const b = Array.from({ length: batch }, () => ones16).flat();
  return {
    model_name: model,
    inputs: [
      { name: 'INPUT0', datatype: 'INT32', shape: [batch, 16] },
      { name: 'INPUT1', datatype: 'INT32', shape: [batch, 16] },
    ],
    raw_input_contents: [int32Bytes(a), int32Bytes(b)],
    ...extra,
  };
}

const finalFlag = { triton_enable_empty_final_response: { bool_param: true } };

function collect(client: TestClient, requests: Json[]): Promise<Json[]> {
  return new Promise((resolve, reject) => {
    const call = client.stream();
    const got: Json[] = [];
    call.on('data', (m: Json) => got.push(m));
    call.on('error', reject);
    call.on('end', () => resolve(got));
    for (const r of requests) call.write(r);
    call.end();
  });
}

describe('gRPC endpoint', () => {
  const labels = ['cat', 'dog', 'bird', 'fish'];
  const catalog = new FakeCatalog().add(
    sumModel(),
    sumModel({ name: 'counted' }),
    identityModel(),
    identityModel({ name: 'wide', width: 300_000, maxBatchSize: 4 }),
    classifierModel({ scores: [0.1, 0.7, 0.2, 0.05], labels, maxBatchSize: 8 }),
  );
  const dataplane = new DataPlane({ catalog });
  let server: GrpcServer;
  let client: TestClient;
  let port: number;

  beforeAll(async () => {
    server = createGrpcServer({ dataplane, shutdownGraceMs: 1000 });
    port = await server.listen('127.0.0.1', 0);
    client = connect(port);
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it('answers ServerLive, ServerReady, ServerMetadata and health Check', async () => {
    expect(await client.call('ServerLive')).toEqual({ live: true });
    expect(await client.call('ServerReady')).toEqual({ ready: true });
    const meta = await client.call<Json>('ServerMetadata');
    expect(meta.name).toBe('triton');
    expect(meta.extensions).toEqual(expect.arrayContaining(['classification', 'statistics', 'model_repository']));
    expect(await client.health()).toEqual({ status: 'SERVING' });
  });

  it('gives model metadata with -1 first for a batching model', async () => {
    expect(await client.call('ModelMetadata', { name: 'simple' })).toEqual({
      name: 'simple',
      versions: ['1'],
      platform: 'fake',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: ['-1', '16'] },
        { name: 'INPUT1', datatype: 'INT32', shape: ['-1', '16'] },
      ],
      outputs: [
        { name: 'OUTPUT0', datatype: 'INT32', shape: ['-1', '16'] },
        { name: 'OUTPUT1', datatype: 'INT32', shape: ['-1', '16'] },
      ],
    });
  });

  it('answers NOT_FOUND with Triton\'s message for an unknown model', async () => {
    expect(await client.call('ModelReady', { name: 'simple' })).toEqual({ ready: true });
    const unknown = { code: NOT_FOUND, details: "Request for unknown model: 'nope' is not found" };
    expect(await statusOf(client.call('ModelMetadata', { name: 'nope' }))).toEqual(unknown);
    expect(await statusOf(client.call('ModelInfer', { ...sumRequest('nope', 1) }))).toEqual(unknown);
  });

  it('answers ModelReady for an unknown model with ready: false and an OK status, as Triton does', async () => {
    expect(await client.call('ModelReady', { name: 'nope' })).toEqual({ ready: false });
    expect(await client.call('ModelReady', { name: 'simple', version: '7' })).toEqual({ ready: false });
  });

  it('runs ModelInfer on raw_input_contents and answers raw_output_contents', async () => {
    const r = await client.call<Json>('ModelInfer', sumRequest('simple', 1, { id: 'q1' }));
    expect(r.model_name).toBe('simple');
    expect(r.model_version).toBe('1');
    expect(r.id).toBe('q1');
    expect(r.outputs).toEqual([
      { name: 'OUTPUT0', datatype: 'INT32', shape: ['1', '16'], parameters: {}, contents: null },
      { name: 'OUTPUT1', datatype: 'INT32', shape: ['1', '16'], parameters: {}, contents: null },
    ]);
    expect(r.raw_output_contents).toHaveLength(2);
    expect(readInt32(r.raw_output_contents[0])).toEqual(range16.map((x) => x + 1));
    expect(readInt32(r.raw_output_contents[1])).toEqual(range16.map((x) => x - 1));
  });

  it('returns only the requested outputs, in the requested order', async () => {
    const r = await client.call<Json>('ModelInfer', sumRequest('simple', 1, { outputs: [{ name: 'OUTPUT1' }] }));
    expect(r.outputs.map((o: Json) => o.name)).toEqual(['OUTPUT1']);
    expect(readInt32(r.raw_output_contents[0])).toEqual(range16.map((x) => x - 1));
  });

  it('accepts typed fp32_contents', async () => {
    const values = [1.5, -2, 0, 4.25];
    const r = await client.call<Json>('ModelInfer', {
      model_name: 'identity',
      inputs: [{ name: 'INPUT', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: values } }],
    });
    expect(r.outputs[0].shape).toEqual(['1', '4']);
    expect(readF32(r.raw_output_contents[0])).toEqual(values);
  });

  it('classifies with int64_param classification into BYTES "score:index:label" strings', async () => {
    const r = await client.call<Json>('ModelInfer', {
      model_name: 'resnet50',
      inputs: [{ name: 'INPUT_0', datatype: 'FP32', shape: [1, 3, 224, 224] }],
      raw_input_contents: [new Uint8Array(3 * 224 * 224 * 4)],
      outputs: [{ name: 'OUTPUT_0', parameters: { classification: { int64_param: 3 } } }],
    });
    expect(r.outputs[0]).toMatchObject({ name: 'OUTPUT_0', datatype: 'BYTES', shape: ['1', '3'] });
    // Scores 0.1, 0.7, 0.2, 0.05 as float32, printed with %f: best three, best first, with their labels.
    expect(readStrings(r.raw_output_contents[0])).toEqual(['0.700000:1:dog', '0.200000:2:bird', '0.100000:0:cat']);
  });

  it('refuses classification <= 0 with INVALID_ARGUMENT', async () => {
    const s = await statusOf(
      client.call('ModelInfer', {
        model_name: 'identity',
        inputs: [{ name: 'INPUT', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } }],
        outputs: [{ name: 'OUTPUT', parameters: { classification: { int64_param: 0 } } }],
      }),
    );
    expect(s.code).toBe(INVALID_ARGUMENT);
    expect(s.details).toContain("'classification'");
  });

  it('answers a wrong shape with INVALID_ARGUMENT and the data plane\'s message', async () => {
    const s = await statusOf(
      client.call('ModelInfer', {
        model_name: 'simple',
        inputs: [
          { name: 'INPUT0', datatype: 'INT32', shape: [1, 15] },
          { name: 'INPUT1', datatype: 'INT32', shape: [1, 16] },
        ],
        raw_input_contents: [int32Bytes(range16.slice(1)), int32Bytes(ones16)],
      }),
    );
    expect(s.code).toBe(INVALID_ARGUMENT);
    expect(s.details).toContain("unexpected shape for input 'INPUT0' for model 'simple'. Expected [-1,16], got [1,15]");
  });

  it('takes requests and sends responses over the 4 MB gRPC default', async () => {
    const values = Float32Array.from({ length: 4 * 300_000 }, (_, i) => i % 977);
    expect(values.byteLength).toBeGreaterThan(4 * 1024 * 1024);
    const r = await client.call<Json>('ModelInfer', {
      model_name: 'wide',
      inputs: [{ name: 'INPUT', datatype: 'FP32', shape: [4, 300_000] }],
      raw_input_contents: [new Uint8Array(values.buffer)],
    });
    expect(r.raw_output_contents[0].byteLength).toBe(values.byteLength);
    expect(Buffer.from(r.raw_output_contents[0]).equals(Buffer.from(values.buffer))).toBe(true);
  });

  it.each([
    ['deflate', 1],
    ['gzip', 2],
  ])('accepts %s-compressed requests', async (_name, algorithm) => {
    const compressed = connect(port, { 'grpc.default_compression_algorithm': algorithm });
    try {
      const r = await compressed.call<Json>('ModelInfer', sumRequest('simple', 2));
      expect(readInt32(r.raw_output_contents[0])).toEqual([...range16, ...range16].map((x) => x + 1));
    } finally {
      compressed.close();
    }
  });

  it('streams one response per request, in order, flagged final when asked', async () => {
    const got = await collect(client, [
      sumRequest('simple', 1, { id: 'a', parameters: finalFlag }),
      sumRequest('simple', 2, { id: 'b', parameters: finalFlag }),
    ]);
    expect(got).toHaveLength(2);
    expect(got.map((m) => m.error_message)).toEqual(['', '']);
    expect(got.map((m) => m.infer_response.id)).toEqual(['a', 'b']);
    expect(got.map((m) => m.infer_response.outputs[0].shape)).toEqual([['1', '16'], ['2', '16']]);
    for (const m of got) {
      expect(m.infer_response.parameters.triton_final_response).toMatchObject({ parameter_choice: 'bool_param', bool_param: true });
    }
  });

  it('streams an error as error_message and keeps going', async () => {
    const got = await collect(client, [sumRequest('simple', 1, { id: 'a' }), sumRequest('nope', 1), sumRequest('simple', 1, { id: 'c' })]);
    expect(got.map((m) => m.error_message)).toEqual(['', "Request for unknown model: 'nope' is not found", '']);
    expect(got[0].infer_response.id).toBe('a');
    expect(got[2].infer_response.id).toBe('c');
    expect(got[0].infer_response.parameters).toEqual({});
  });

  it('returns the failed request\'s id with a streamed error, as Triton does', async () => {
    const got = await collect(client, [sumRequest('simple', 1, { id: 'ok' }), sumRequest('simple', 9, { id: 'too-big' })]);
    expect(got.map((m) => m.error_message)).toEqual(['', expect.stringContaining('batch-size must be <= 8')]);
    expect(got.map((m) => m.infer_response?.id)).toEqual(['ok', 'too-big']);
  });

  it('returns the model configuration as inference.ModelConfig', async () => {
    const { config } = await client.call<Json>('ModelConfig', { name: 'simple' });
    expect(config.name).toBe('simple');
    expect(config.max_batch_size).toBe(8);
    expect(config.input[0]).toMatchObject({ name: 'INPUT0', data_type: 'TYPE_INT32', dims: ['16'] });
    expect(config.output.map((o: Json) => o.name)).toEqual(['OUTPUT0', 'OUTPUT1']);
    expect(config.instance_group[0]).toMatchObject({ kind: 'KIND_CPU', count: 1 });
  });

  it('reports statistics per model and for all models', async () => {
    await client.call('ModelInfer', sumRequest('counted', 2));
    await client.call('ModelInfer', sumRequest('counted', 1));
    const { model_stats } = await client.call<Json>('ModelStatistics', { name: 'counted' });
    expect(model_stats).toHaveLength(1);
    const s = model_stats[0];
    expect(s).toMatchObject({ name: 'counted', version: '1', inference_count: '3', execution_count: '2' });
    expect(s.inference_stats.success.count).toBe('2');
    expect(s.inference_stats.fail.count).toBe('0');
    expect(s.batch_stats.map((b: Json) => b.batch_size).sort()).toEqual(['1', '2']);
    expect(Number(s.last_inference)).toBeGreaterThan(0);
    const all = await client.call<Json>('ModelStatistics', {});
    expect(all.model_stats.map((m: Json) => m.name).sort()).toEqual(['counted', 'identity', 'resnet50', 'simple', 'wide']);
  });

  it('lists the repository index', async () => {
    const { models } = await client.call<Json>('RepositoryIndex', {});
    expect(models.map((m: Json) => [m.name, m.version, m.state])).toEqual([
      ['counted', '1', 'READY'],
      ['identity', '1', 'READY'],
      ['resnet50', '1', 'READY'],
      ['simple', '1', 'READY'],
      ['wide', '1', 'READY'],
    ]);
  });

  it('refuses load/unload outside explicit mode with UNAVAILABLE, and unimplemented RPCs with UNIMPLEMENTED', async () => {
    const s = await statusOf(client.call('RepositoryModelLoad', { model_name: 'simple' }));
    expect(s).toEqual({ code: UNAVAILABLE, details: 'explicit model load / unload is not allowed if polling is enabled' });
    expect((await statusOf(client.call('SystemSharedMemoryStatus'))).code).toBe(UNIMPLEMENTED);
    expect((await statusOf(client.call('LogSettings'))).code).toBe(UNIMPLEMENTED);
  });

  it('serves a request written by field number and answers bytes readable by field number', async () => {
    const bytes = handEncodedInferRequest({
      model: 'identity', version: '1', id: 'req-7', input: 'INPUT', shape: [1, 4], fp32: [1.5, -2, 0, 4.25],
      output: 'OUTPUT', classification: 3,
    });
    const response = await client.raw('ModelInfer', bytes);
    expect(readString(response, 1)).toBe('identity'); // model_name
    expect(readString(response, 2)).toBe('1'); // model_version
    expect(readString(response, 3)).toBe('req-7'); // id
    const [output] = readLengthDelimited(response, 5); // outputs
    expect(readString(output, 1)).toBe('OUTPUT');
    expect(readString(output, 2)).toBe('BYTES');
    const raw = readLengthDelimited(response, 6); // raw_output_contents
    expect(raw).toHaveLength(1);
    expect(readStrings(raw[0])).toEqual(['4.250000:3', '1.500000:0', '0.000000:2']);
  });
});

describe('gRPC repository control and readiness', () => {
  const catalog = new FakeCatalog(true).add(sumModel()).addUnavailable('broken', 'failed to load: bad file');
  let server: GrpcServer;
  let client: TestClient;

  beforeAll(async () => {
    server = createGrpcServer({ dataplane: new DataPlane({ catalog }) });
    client = connect(await server.listen('127.0.0.1', 0));
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it('stays ready when a model failed to load (Triton skips UNAVAILABLE models), the model itself is not', async () => {
    expect(await client.call('ServerReady')).toEqual({ ready: true });
    expect(await client.health()).toEqual({ status: 'SERVING' });
    expect(await client.call('ModelReady', { name: 'broken' })).toEqual({ ready: false });
  });

  it('lists unavailable models with their reason unless ready is asked', async () => {
    const all = await client.call<Json>('RepositoryIndex', { ready: false });
    expect(all.models).toEqual([
      { name: 'broken', version: '', state: 'UNAVAILABLE', reason: 'failed to load: bad file' },
      { name: 'simple', version: '1', state: 'READY', reason: '' },
    ]);
    const ready = await client.call<Json>('RepositoryIndex', { ready: true });
    expect(ready.models.map((m: Json) => m.name)).toEqual(['simple']);
  });

  it('loads and unloads through the catalog, refusing what it cannot honour', async () => {
    expect(await client.call('RepositoryModelLoad', { model_name: 'broken' })).toEqual({});
    expect(catalog.loaded).toEqual(['broken']);
    const withConfig = { model_name: 'broken', parameters: { config: { string_param: '{}' } } };
    expect((await statusOf(client.call('RepositoryModelLoad', withConfig))).code).toBe(UNIMPLEMENTED);
    expect((await statusOf(client.call('RepositoryIndex', { repository_name: 'other' }))).code).toBe(UNIMPLEMENTED);
    expect(await client.call('RepositoryModelUnload', { model_name: 'simple' })).toEqual({});
    expect(catalog.unloaded).toEqual(['simple']);
  });
});

describe('gRPC listen', () => {
  it('reports a port in use as EADDRINUSE', async () => {
    const dataplane = new DataPlane({ catalog: new FakeCatalog() });
    const first = createGrpcServer({ dataplane });
    const second = createGrpcServer({ dataplane });
    try {
      const port = await first.listen('127.0.0.1', 0);
      await expect(second.listen('127.0.0.1', port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe('gRPC shutdown', () => {
  it('lets an in-flight call finish, then refuses new ones', async () => {
    const server = createGrpcServer({ dataplane: new DataPlane({ catalog: new FakeCatalog().add(slowModel({ ms: 150 })) }) });
    const client = connect(await server.listen('127.0.0.1', 0));
    try {
      const request = { model_name: 'slow', inputs: [{ name: 'INPUT', datatype: 'FP32', shape: [1] }], raw_input_contents: [f32Bytes([7])] };
      await client.call('ServerLive'); // connected
      const inFlight = client.call<Json>('ModelInfer', request);
      await new Promise((r) => setTimeout(r, 30));
      const closing = server.close();
      expect(readF32((await inFlight).raw_output_contents[0])).toEqual([7]);
      await closing;
      expect((await statusOf(client.call('ServerLive'))).code).toBe(UNAVAILABLE);
    } finally {
      client.close();
    }
  });

  it('cancels a stream left open once the grace period is over', async () => {
    const server = createGrpcServer({ dataplane: new DataPlane({ catalog: new FakeCatalog().add(sumModel()) }), shutdownGraceMs: 200 });
    const client = connect(await server.listen('127.0.0.1', 0));
    try {
      const call = client.stream();
      const ended = new Promise<void>((resolve) => {
        call.on('error', () => resolve());
        call.on('end', () => resolve());
      });
      call.on('data', () => undefined);
      call.write(sumRequest('simple', 1));
      await new Promise((r) => setTimeout(r, 50));
      const started = Date.now();
      await server.close();
      expect(Date.now() - started).toBeLessThan(2000);
      await ended;
    } finally {
      client.close();
    }
  });
});

describe('gRPC flow control', () => {
  it('grants each connection and stream a window larger than an image request', async () => {
    const server = createGrpcServer({ dataplane: new DataPlane({ catalog: new FakeCatalog() }) });
    const port = await server.listen('127.0.0.1', 0);
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      // The server's SETTINGS (initial stream window) and its connection WINDOW_UPDATE arrive after connect.
      await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
      for (let i = 0; i < 100 && session.remoteSettings.initialWindowSize !== STREAM_WINDOW_BYTES; i++) await new Promise((r) => setTimeout(r, 10));
      expect(session.remoteSettings.initialWindowSize).toBe(STREAM_WINDOW_BYTES);
      expect(STREAM_WINDOW_BYTES).toBeGreaterThan(3 * 224 * 224 * 4 * 8); // a batch of 8 images in one window
      for (let i = 0; i < 100 && session.state.remoteWindowSize !== CONNECTION_WINDOW_BYTES; i++) await new Promise((r) => setTimeout(r, 10));
      expect(session.state.remoteWindowSize).toBe(CONNECTION_WINDOW_BYTES);
    } finally {
      session.close();
      await server.close();
    }
  });
});
