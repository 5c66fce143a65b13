/**
 * Hostile gRPC input against the real server on loopback: every malformed call ends with a status
 * (INVALID_ARGUMENT / NOT_FOUND for client mistakes), none hangs, and the server keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataPlane } from '../../../src/server/dataplane.js';
import { encodeMessage, rpcTypes } from '../../../src/protocol/grpc-schema.js';
import { createGrpcServer, type GrpcServer } from '../../../src/server/grpc/server.js';
import { anyShapeModel, FakeCatalog, classifierModel, fakeModel, sumModel } from '../../fixtures/fake-models.js';
import { expectNoStack, mutate, prng } from '../../fixtures/hostile.js';
import { connect, statusOf, type TestClient } from '../server/grpc/grpc-client.js';

const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const INTERNAL = 13;
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
    const catalog = new FakeCatalog().add(sumModel(), anyShape, batching, classifierModel({ name: 'cls', scores: [0.2, 0.5, 0.3], maxBatchSize: 2 }));
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
        // Undecodable bytes are refused by grpc-js itself (INTERNAL "Error deserializing request", as
        // gRPC C++ does); anything that decodes must be judged by the server as a client mistake.
        expect([INVALID_ARGUMENT, NOT_FOUND, INTERNAL], `case ${i}: ${err.code} ${err.details}`).toContain(err.code);
        if (err.code === INTERNAL) expect(err.details).toMatch(/deserializ/i);
        expect(err.code).not.toBe(UNKNOWN);
        expectNoStack(err.details);
        seen.add(err.code);
      }
    }
    expect(seen.size).toBeGreaterThan(1);
    expect((await client.call<Json>('ModelInfer', sumRequest())).model_name).toBe('simple');
  });
});
