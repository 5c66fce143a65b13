/**
 * Hostile gRPC input against the real server on loopback: every malformed call ends with a status
 * (INVALID_ARGUMENT / NOT_FOUND for client mistakes), none hangs, and the server keeps serving.
 */
import http2 from 'node:http2';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataPlane } from '../../../src/server/dataplane.js';
import { decodeMessage, encodeMessage, rpcTypes } from '../../../src/protocol/grpc-schema.js';
import { createGrpcServer, type GrpcServer } from '../../../src/server/grpc/server.js';
import { anyShapeModel, FakeCatalog, classifierModel, fakeModel, slowModel, sumModel } from '../../fixtures/fake-models.js';
import { expectNoStack, mutate, prng } from '../../fixtures/hostile.js';
import { connect, statusOf, type TestClient } from '../server/grpc/grpc-client.js';

const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const RESOURCE_EXHAUSTED = 8;
const UNKNOWN = 2;

type Json = Record<string, unknown>;

const anyShape = anyShapeModel();
const batching = fakeModel({
  name: 'batching',
  maxBatchSize: 8,
  inputs: [{ name: 'IN', dtype: 'FP32', shape: [-1] }],
  outputs: [{ name: 'OUT', dtype: 'FP32', shape: [-1] }],
  compute: (inputs) => [{ ...inputs[0], name: 'OUT' }],
});

const int32Bytes = (values: number[]) => new Uint8Array(Int32Array.from(values).buffer);
const range16 = Array.from({ length: 16 }, (_, i) => i);

function sumRequest(extra: Json = {}, shape: unknown[] = ['1', '16']): Json {
  return {
    model_name: 'simple',
    inputs: [
      { name: 'INPUT0', datatype: 'INT32', shape },
      { name: 'INPUT1', datatype: 'INT32', shape: ['1', '16'] },
    ],
    raw_input_contents: [int32Bytes(range16), int32Bytes(range16)],
    ...extra,
  };
}

describe('hostile gRPC requests', () => {
  let server: GrpcServer;
  let client: TestClient;
  beforeAll(async () => {
    const catalog = new FakeCatalog().add(sumModel(), anyShape, batching, classifierModel({ name: 'cls', scores: [0.2, 0.5, 0.3], maxBatchSize: 2 }), sumModel({ name: 'a' }));
    server = createGrpcServer({ dataplane: new DataPlane({ catalog }), shutdownGraceMs: 500 });
    const port = await server.listen('127.0.0.1', 0);
    client = connect(port);
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  async function expectRejected(p: Promise<unknown>, codes: number[], label: string): Promise<string> {
    const s = await statusOf(p);
    expect(codes, `${label}: ${s.code} ${s.details}`).toContain(s.code);
    expect(s.details.length).toBeGreaterThan(0);
    expectNoStack(s.details);
    return s.details;
  }

  it('sanity: a valid request succeeds', async () => {
    const r = await client.call<Json>('ModelInfer', sumRequest());
    expect(r.model_name).toBe('simple');
  });

  it('rejects negative and huge dims even when the byte count matches', async () => {
    // [-2, -2] claims 4 elements, exactly the 16 bytes sent: the sign must still be refused.
    for (const shape of [['-2', '-2'], ['-1', '-4'], ['-4', '-1'], ['0', '9223372036854775807'], ['9223372036854775807', '0'], ['-9223372036854775808', '1']]) {
      const request = { model_name: 'any', inputs: [{ name: 'IN', datatype: 'FP32', shape }], raw_input_contents: [new Uint8Array(16)] };
      expect(await expectRejected(client.call('ModelInfer', request), [INVALID_ARGUMENT], shape.join(','))).toMatch(/IN/);
    }
    // A negative batch size on a batching model is not a batch.
    const neg = { model_name: 'batching', inputs: [{ name: 'IN', datatype: 'FP32', shape: ['-1', '-4'] }], raw_input_contents: [new Uint8Array(16)] };
    await expectRejected(client.call('ModelInfer', neg), [INVALID_ARGUMENT], 'negative batch');
    for (const shape of [['-1', '16'], ['2147483648', '2147483648'], ['4503599627370497', '16']]) {
      await expectRejected(client.call('ModelInfer', sumRequest({}, shape)), [INVALID_ARGUMENT], shape.join(','));
    }
  });

  it('rejects wrong contents, missing or extra raw data, bad classification and unknown models', async () => {
    const typed = sumRequest({ raw_input_contents: [] });
    (typed.inputs as Json[])[0].contents = { fp32_contents: range16 };
    (typed.inputs as Json[])[1].contents = { int_contents: range16 };
    await expectRejected(client.call('ModelInfer', typed), [INVALID_ARGUMENT], 'fp32 contents for INT32');
    await expectRejected(client.call('ModelInfer', sumRequest({ raw_input_contents: [int32Bytes(range16)] })), [INVALID_ARGUMENT], 'missing raw');
    await expectRejected(
      client.call('ModelInfer', sumRequest({ raw_input_contents: [int32Bytes(range16), int32Bytes(range16), new Uint8Array(4)] })),
      [INVALID_ARGUMENT],
      'extra raw',
    );
    for (const p of [{ int64_param: '-1' }, { int64_param: '0' }, { string_param: '3' }, { double_param: 2.5 }, { bool_param: true }]) {
      const r = sumRequest({ outputs: [{ name: 'OUTPUT0', parameters: { classification: p } }] });
      await expectRejected(client.call('ModelInfer', r), [INVALID_ARGUMENT], JSON.stringify(p));
    }
    const huge = await client.call<Json>('ModelInfer', {
      model_name: 'cls',
      inputs: [{ name: 'INPUT_0', datatype: 'FP32', shape: ['1', '3', '224', '224'] }],
      raw_input_contents: [new Uint8Array(3 * 224 * 224 * 4)],
      outputs: [{ name: 'OUTPUT_0', parameters: { classification: { int64_param: '9223372036854775807' } } }],
    });
    expect((huge.outputs as Json[])[0].shape).toEqual(['1', '3']);
    for (const name of ['', '..', '../simple', 'simple\u0000', 'x'.repeat(100_000), 'é'.repeat(50_000), '\u{1F600}'.repeat(30_000), '\n'.repeat(20_000)]) {
      await expectRejected(client.call('ModelInfer', { ...sumRequest(), model_name: name }), [NOT_FOUND], `model ${name.slice(0, 20)}`);
      await expectRejected(client.call('ModelConfig', { name }), [NOT_FOUND], `config ${name.slice(0, 20)}`);
    }
    await expectRejected(client.call('ModelInfer', { ...sumRequest(), model_version: '../1' }), [NOT_FOUND], 'version path');
    await expectRejected(client.call('ModelInfer', { ...sumRequest(), inputs: [] , raw_input_contents: []}), [INVALID_ARGUMENT], 'no inputs');
    const dup = sumRequest();
    (dup.inputs as Json[])[1].name = 'INPUT0';
    await expectRejected(client.call('ModelInfer', dup), [INVALID_ARGUMENT], 'duplicate input');
  });

  it('streams an error message per bad request and keeps the stream open', async () => {
    const call = client.stream();
    const got: Json[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (m: Json) => got.push(m));
      call.on('error', reject);
      call.on('end', () => resolve());
    });
    call.write(sumRequest({}, ['-2', '-8']));
    call.write({ model_name: 'nope' });
    call.write(sumRequest());
    call.end();
    await done;
    expect(got).toHaveLength(3);
    expect(got[0].error_message).toMatch(/INPUT0/);
    expect(got[1].error_message).toMatch(/nope/);
    expect(got[2].error_message).toBe('');
  });

  it('refuses truncated and mistyped messages with INVALID_ARGUMENT instead of guessing', async () => {
    const hex = (h: string) => Buffer.from(h.replace(/\s/g, ''), 'hex');
    // protobufjs alone reads `0a 50 61` as model 'a' (the length 0x50 clamped to the one byte there):
    // ModelReady would answer ready: true for the model 'a' this server has.
    for (const [rpc, bytes] of [
      ['ModelInfer', '0a 50 61'],
      ['ModelInfer', '08 01'],
      ['ModelInfer', '2a 03 0a 05 61'],
      ['ModelReady', '0a 50 61'],
      ['ModelConfig', '12 05 31'],
      ['ModelMetadata', '0a 02 c3 28'],
      ['RepositoryIndex', '10'],
      ['ServerLive', '0b'],
    ] as const) {
      const details = await expectRejected(client.raw(rpc, hex(bytes)), [INVALID_ARGUMENT], `${rpc} ${bytes}`);
      expect(details).toMatch(/^malformed \w+Request message: /);
    }
    const details = await expectRejected(client.raw('ModelInfer', hex('0a 50 61')), [INVALID_ARGUMENT], 'clamped');
    expect(details).toBe("malformed ModelInferRequest message: field 'model_name' (1) at offset 2 needs 80 bytes, 1 left");
  });

  it('answers a malformed message on a stream with an error response and keeps the stream', async () => {
    const call = client.rawStream();
    const got: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (m: Buffer) => got.push(m));
      call.on('error', reject);
      call.on('end', () => resolve());
    });
    const { request } = rpcTypes('inference.GRPCInferenceService', 'ModelInfer');
    call.write(Buffer.from('0a5061', 'hex'));
    call.write(encodeMessage(request, sumRequest()));
    call.end();
    await done;
    const { response } = rpcTypes('inference.GRPCInferenceService', 'ModelStreamInfer');
    const decoded = got.map((b) => decodeMessage<{ error_message: string }>(response, b));
    expect(decoded).toHaveLength(2);
    expect(decoded[0].error_message).toMatch(/^malformed ModelInferRequest message/);
    expect(decoded[1].error_message).toBe('');
  });

  it('fuzz: 200 mutated ModelInfer messages all end with a status and never take the server down', async () => {
    const rnd = prng(7);
    const { request } = rpcTypes('inference.GRPCInferenceService', 'ModelInfer');
    const valid = encodeMessage(request, sumRequest({ id: 'x', outputs: [{ name: 'OUTPUT1', parameters: { classification: { int64_param: 2 } } }] }));
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const bytes = mutate(valid, rnd);
      try {
        await client.raw('ModelInfer', bytes);
        seen.add(0);
      } catch (e) {
        const err = e as { code: number; details: string };
        // Malformed bytes are the client's mistake too (the strict decoder refuses them), never INTERNAL.
        expect([INVALID_ARGUMENT, NOT_FOUND], `case ${i}: ${err.code} ${err.details}`).toContain(err.code);
        expect(err.code).not.toBe(UNKNOWN);
        expectNoStack(err.details);
        seen.add(err.code);
      }
    }
    expect(seen.size).toBeGreaterThan(1);
    expect((await client.call<Json>('ModelInfer', sumRequest())).model_name).toBe('simple');
  });
});

describe('gRPC clients that go away', () => {
  const slowRequest = (id: string) => ({ id, model_name: 'slow', inputs: [{ name: 'INPUT', datatype: 'FP32', shape: ['1'] }], raw_input_contents: [new Uint8Array(4)] });
  let server: GrpcServer;
  let client: TestClient;
  let slow: ReturnType<typeof slowModel>;
  beforeAll(async () => {
    slow = slowModel({ ms: 400 });
    server = createGrpcServer({ dataplane: new DataPlane({ catalog: new FakeCatalog().add(slow) }), shutdownGraceMs: 500 });
    client = connect(await server.listen('127.0.0.1', 0));
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  const waitFor = async (what: () => boolean) => {
    for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 10));
  };

  it('drops a cancelled unary call that is still queued, and counts it as CANCELED', async () => {
    const first = client.call<Json>('ModelInfer', slowRequest('running'));
    await waitFor(() => slow.sessions[0].runs.length === 1); // the only instance is now busy
    const queued = client.cancellable('ModelInfer', slowRequest('queued'));
    await waitFor(() => slow.stats.snapshot().inference_count === 0 && slow.scheduler.inflight() === 2);
    expect(slow.scheduler.inflight()).toBe(2);
    queued.cancel();
    expect((await statusOf(queued.result)).code).toBe(1); // CANCELLED, as the client sees it
    expect((await first).id).toBe('running');
    await waitFor(() => slow.scheduler.inflight() === 0);
    expect(slow.sessions[0].runs).toHaveLength(1);
    expect(slow.stats.snapshot().failures_by_reason.CANCELED).toBe(1);
  });

  it('drops the queued requests of a cancelled stream', async () => {
    const before = slow.sessions[0].runs.length;
    const call = client.stream();
    call.on('error', () => undefined);
    for (const id of ['s1', 's2', 's3']) call.write(slowRequest(id));
    await waitFor(() => slow.scheduler.inflight() === 3 && slow.sessions[0].runs.length === before + 1);
    expect(slow.scheduler.inflight()).toBe(3);
    call.cancel();
    await waitFor(() => slow.scheduler.inflight() === 0);
    expect(slow.scheduler.inflight()).toBe(0);
    expect(slow.sessions[0].runs.length - before).toBe(1); // s2 and s3 never ran
    expect(slow.stats.snapshot().failures_by_reason.CANCELED).toBe(3);
  });
});

/** One gRPC call over a bare HTTP/2 stream: `frame` is sent as is (compressed flag, length, payload). */
function rawFrameCall(port: number, rpc: string, frame: Buffer, headers: http2.OutgoingHttpHeaders = {}): Promise<{ code: number; details: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST',
      ':path': `/inference.GRPCInferenceService/${rpc}`,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...headers,
    });
    let status: { code: number; details: string } | undefined;
    const take = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] !== undefined) status = { code: Number(h['grpc-status']), details: decodeURIComponent(String(h['grpc-message'] ?? '')) };
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('data', () => undefined);
    stream.on('error', () => undefined);
    stream.on('close', () => {
      session.close();
      if (status) resolve(status);
      else reject(new Error(`no grpc-status (rst ${stream.rstCode})`));
    });
    stream.end(frame);
  });
}

function grpcFrame(payload: Buffer, compressed: boolean): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(compressed ? 1 : 0, 0);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

describe('gRPC message size limits', () => {
  const LIMIT = 1024 * 1024;
  let server: GrpcServer;
  let port: number;
  let client: TestClient;
  beforeAll(async () => {
    server = createGrpcServer({ dataplane: new DataPlane({ catalog: new FakeCatalog().add(sumModel(), anyShapeModel()) }), maxMessageBytes: LIMIT, shutdownGraceMs: 500 });
    port = await server.listen('127.0.0.1', 0);
    client = connect(port);
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it('answers a message over the limit with RESOURCE_EXHAUSTED and keeps serving', async () => {
    const request = { model_name: 'any', inputs: [{ name: 'IN', datatype: 'FP32', shape: ['1', '300000'] }], raw_input_contents: [new Uint8Array(1_200_000)] };
    const s = await statusOf(client.call('ModelInfer', request));
    expect(s.code).toBe(RESOURCE_EXHAUSTED);
    expectNoStack(s.details);
    const small = { ...request, inputs: [{ name: 'IN', datatype: 'FP32', shape: ['1', '1000'] }], raw_input_contents: [new Uint8Array(4000)] };
    expect((await client.call<Json>('ModelInfer', small)).model_name).toBe('any');
  });

  it('stops inflating a compressed message at the limit: a 512 MB gzip bomb costs no 512 MB', async () => {
    // gzip members concatenate: 64 copies of an 8 MiB-of-zeros member are ~0.5 MB that inflate to 512 MiB.
    const member = zlib.gzipSync(Buffer.alloc(8 * 1024 * 1024), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 64 }, () => member));
    expect(bomb.length).toBeLessThan(LIMIT);
    const peakBefore = process.resourceUsage().maxRSS; // KiB
    const s = await rawFrameCall(port, 'ModelInfer', grpcFrame(bomb, true), { 'grpc-encoding': 'gzip' });
    const grownMiB = (process.resourceUsage().maxRSS - peakBefore) / 1024;
    expect(s.code).toBe(RESOURCE_EXHAUSTED);
    expect(s.details).toMatch(/decompresses to a size larger than 1048576/);
    expect(grownMiB).toBeLessThan(256);
    expect((await client.call<Json>('ModelInfer', sumRequest())).model_name).toBe('simple');
  });

  it('serves a compressed message that inflates within the limit', async () => {
    const { request } = rpcTypes('inference.GRPCInferenceService', 'ModelInfer');
    const body = encodeMessage(request, sumRequest({ id: 'gz' }));
    const gz = await rawFrameCall(port, 'ModelInfer', grpcFrame(zlib.gzipSync(body), true), { 'grpc-encoding': 'gzip' });
    expect(gz.code).toBe(0);
  });

  it('refuses a frame whose length prefix is over the limit before reading it', async () => {
    const head = Buffer.alloc(5);
    head.writeUInt32BE(LIMIT + 1, 1);
    const s = await rawFrameCall(port, 'ModelInfer', head);
    expect(s.code).toBe(RESOURCE_EXHAUSTED);
  });
});
