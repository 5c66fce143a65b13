import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcInferenceServerClient } from '../../../src/client/grpc-client.js';
import { inferInput } from '../../../src/client/infer-input.js';
import type { OfsError } from '../../../src/errors.js';
import { classifierModel, identityModel, sumModel } from '../../fixtures/fake-models.js';
import { startGrpcServer, unusedPort, type RunningGrpcServer } from '../../fixtures/grpc-server.js';

const range16 = Int32Array.from({ length: 16 }, (_, i) => i);
const ones16 = Int32Array.from({ length: 16 }, () => 1);
const sumInputs = () => [inferInput('INPUT0', 'INT32', [1, 16], range16), inferInput('INPUT1', 'INT32', [1, 16], ones16)];

describe('GrpcInferenceServerClient against the gRPC endpoint', () => {
  let server: RunningGrpcServer;
  let client: GrpcInferenceServerClient;

  beforeAll(async () => {
    server = await startGrpcServer(
      sumModel(),
      sumModel({ name: 'counted' }),
      identityModel({ name: 'wide', width: 300_000, maxBatchSize: 4 }),
      classifierModel({ scores: [0.1, 0.7, 0.2, 0.05], labels: ['cat', 'dog', 'bird', 'fish'], maxBatchSize: 8 }),
    );
    client = new GrpcInferenceServerClient({ url: server.url });
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it('reports health and server metadata', async () => {
    expect(await client.isServerLive()).toBe(true);
    expect(await client.isServerReady()).toBe(true);
    expect(await client.isModelReady('simple')).toBe(true);
    const meta = await client.getServerMetadata();
    expect(meta.name).toBe('triton');
    expect(meta.extensions).toEqual(expect.arrayContaining(['classification', 'statistics']));
  });

  it('gives model metadata and config in the HTTP client\'s shapes (numbers, no nulls)', async () => {
    expect(await client.getModelMetadata('simple')).toEqual({
      name: 'simple',
      versions: ['1'],
      platform: 'fake',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [-1, 16] },
        { name: 'INPUT1', datatype: 'INT32', shape: [-1, 16] },
      ],
      outputs: [
        { name: 'OUTPUT0', datatype: 'INT32', shape: [-1, 16] },
        { name: 'OUTPUT1', datatype: 'INT32', shape: [-1, 16] },
      ],
    });
    const config = await client.getModelConfig('simple', '1');
    expect(config.name).toBe('simple');
    expect(config.max_batch_size).toBe(8);
    expect(config.input?.[0]).toMatchObject({ name: 'INPUT0', data_type: 'TYPE_INT32', dims: [16] });
    expect(JSON.stringify(config)).not.toContain('null');
  });

  it('infers from raw_input_contents and reads raw_output_contents through InferResult', async () => {
    const result = await client.infer('simple', sumInputs(), { requestId: 'q1' });
    expect(result.modelName).toBe('simple');
    expect(result.modelVersion).toBe('1');
    expect(result.id).toBe('q1');
    expect(result.outputNames()).toEqual(['OUTPUT0', 'OUTPUT1']);
    const sum = result.asTensor('OUTPUT0');
    expect(sum).toMatchObject({ name: 'OUTPUT0', datatype: 'INT32', shape: [1, 16] });
    expect(Array.from(result.asFloat32('OUTPUT0'))).toEqual(Array.from(range16, (x) => x + 1));
    expect(Array.from(result.asFloat32('OUTPUT1'))).toEqual(Array.from(range16, (x) => x - 1));

    const only = await client.infer('simple', sumInputs(), { outputs: [{ name: 'OUTPUT1' }] });
    expect(only.outputNames()).toEqual(['OUTPUT1']);
  });

  it('sends a prepared request as many times as asked, with the values it had when prepared', async () => {
    const values = Int32Array.from(range16);
    const send = client.prepareInfer('simple', [inferInput('INPUT0', 'INT32', [1, 16], values), inferInput('INPUT1', 'INT32', [1, 16], ones16)]);
    values.fill(100);
    for (let i = 0; i < 2; i++) expect(Array.from((await send()).asFloat32('OUTPUT0'))).toEqual(Array.from(range16, (v) => v + 1));
  });

  it('sends and receives messages over gRPC\'s 4 MB default', async () => {
    const values = Float32Array.from({ length: 4 * 300_000 }, (_, i) => i % 977);
    const result = await client.infer('wide', [inferInput('INPUT', 'FP32', [4, 300_000], values)]);
    const out = result.asFloat32('OUTPUT');
    expect(out.length).toBe(values.length);
    expect(Buffer.from(out.buffer, out.byteOffset, out.byteLength).equals(Buffer.from(values.buffer))).toBe(true);
  });

  it('asks for classification as int64_param and returns the strings', async () => {
    const image = inferInput('INPUT_0', 'FP32', [1, 3, 224, 224], new Float32Array(3 * 224 * 224));
    const result = await client.infer('resnet50', [image], { outputs: [{ name: 'OUTPUT_0', classCount: 3 }] });
    expect(result.output('OUTPUT_0')).toMatchObject({ datatype: 'BYTES', shape: [1, 3] });
    // scores 0.1, 0.7, 0.2, 0.05: the best three, best first, "%f:index:label"
    expect(result.asStrings('OUTPUT_0')).toEqual(['0.700000:1:dog', '0.200000:2:bird', '0.100000:0:cat']);
  });

  it('reads statistics with counts as numbers and the repository index', async () => {
    for (let i = 0; i < 3; i++) await client.infer('counted', sumInputs());
    const stats = await client.getInferenceStatistics('counted');
    expect(stats.model_stats).toHaveLength(1);
    expect(stats.model_stats[0]).toMatchObject({ name: 'counted', version: '1', inference_count: 3, execution_count: 3 });
    expect(stats.model_stats[0].inference_stats.success.count).toBe(3);
    expect((await client.getInferenceStatistics()).model_stats.map((s) => s.name)).toContain('simple');

    const index = await client.getModelRepositoryIndex();
    expect(index).toContainEqual({ name: 'resnet50', version: '1', state: 'READY' });
    expect(index.map((e) => e.name).sort()).toEqual(['counted', 'resnet50', 'simple', 'wide']);
  });

  it('maps a server status to OFS_SERVER_ERROR with the server\'s message', async () => {
    const e = (await client.infer('nope', sumInputs()).catch((x: unknown) => x)) as OfsError;
    expect(e.code).toBe('OFS_SERVER_ERROR');
    expect(e.message).toContain("Request for unknown model: 'nope' is not found");
    const shape = (await client
      .infer('simple', [inferInput('INPUT0', 'INT32', [1, 16], range16)])
      .catch((x: unknown) => x)) as OfsError;
    expect(shape.code).toBe('OFS_SERVER_ERROR');
    expect(shape.message).toContain('INPUT1');
  });
});

describe('GrpcInferenceServerClient without a server', () => {
  it('reports OFS_SERVER_UNREACHABLE for a port nobody listens on', async () => {
    const port = await unusedPort();
    const client = new GrpcInferenceServerClient({ url: `127.0.0.1:${port}`, timeoutMs: 5000 });
    try {
      const e = (await client.isServerLive().catch((x: unknown) => x)) as OfsError;
      expect(e.code).toBe('OFS_SERVER_UNREACHABLE');
      expect(e.kind).toBe('UNAVAILABLE');
      expect(e.message).toBe(`cannot reach the server at 127.0.0.1:${port}: connection refused`);
    } finally {
      client.close();
    }
  });

  it('refuses an address that is not host:port', () => {
    expect(() => new GrpcInferenceServerClient({ url: 'https://example.com:8001' })).toThrow(expect.objectContaining({ code: 'OFS_BAD_ARGUMENT' }));
    expect(() => new GrpcInferenceServerClient({ url: 'localhost' })).toThrow(/host:port/);
    const client = new GrpcInferenceServerClient({ url: 'grpc://localhost:8001/' });
    expect(client.url).toBe('localhost:8001');
    client.close();
  });
});
