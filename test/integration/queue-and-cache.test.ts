/**
 * The dynamic batcher's queue policy and the response cache over real sockets: fastify for HTTP,
 * grpc-js for gRPC, one DataPlane behind both, fake models whose executions the test holds and releases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ResponseCache } from '../../src/core/cache/response-cache.js';
import type { ModelConfig } from '../../src/core/config/model-config.js';
import { CachedScheduler } from '../../src/core/scheduler/cached.js';
import type { Tensor } from '../../src/core/tensor/tensor.js';
import { DataPlane } from '../../src/server/dataplane.js';
import { createGrpcServer, type GrpcServer } from '../../src/server/grpc/server.js';
import { createHttpApp } from '../../src/server/http/app.js';
import { createMetricsApp } from '../../src/server/metrics/app.js';
import { FakeCatalog, fakeModel, readF32, type FakeModel } from '../fixtures/fake-models.js';
import { connect, statusOf, type TestClient } from '../unit/server/grpc/grpc-client.js';

/** An FP32 [2] → [2] model whose executions wait until the test opens the gate. */
function gatedModel(name: string, dynamicBatching: ModelConfig['dynamic_batching']): FakeModel & { open(): void; close(): void } {
  let release: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  const model = fakeModel({
    name,
    maxBatchSize: 0,
    dynamicBatching,
    inputs: [{ name: 'IN', dtype: 'FP32', shape: [2] }],
    outputs: [{ name: 'OUT', dtype: 'FP32', shape: [2] }],
    compute: async (inputs) => {
      await gate;
      return [{ ...(inputs[0] as Tensor), name: 'OUT' }];
    },
  });
  return {
    ...model,
    close: () => {
      gate = new Promise((r) => (release = r));
    },
    open: () => release(),
  };
}

/** A classifier-like FP32 [4] → scores [4] (= the input) with labels, behind the response cache. */
function cachedModel(cache: ResponseCache): FakeModel {
  const base = fakeModel({
    name: 'cached',
    maxBatchSize: 0,
    inputs: [{ name: 'IN', dtype: 'FP32', shape: [4] }],
    outputs: [{ name: 'SCORES', dtype: 'FP32', shape: [4] }],
    labels: { SCORES: ['a', 'b', 'c', 'd'] },
    compute: (inputs) => [{ ...(inputs[0] as Tensor), name: 'SCORES' }],
  });
  return {
    ...base,
    config: { ...base.config, response_cache: { enable: true } },
    scheduler: new CachedScheduler({ inner: base.scheduler, cache, stats: base.stats, owner: 'cached\u00001\u00001' }),
    cacheEnabled: true,
  };
}

const f32Bytes = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

const overloaded = gatedModel('overloaded', { default_queue_policy: { max_queue_size: 4 } });
const timed = gatedModel('timed', { default_queue_policy: { default_timeout_microseconds: 60_000_000, allow_timeout_override: true } });
const cache = new ResponseCache(1 << 20);
const cached = cachedModel(cache);
const catalog = new FakeCatalog().add(overloaded, timed, cached);
const dataplane = new DataPlane({ catalog });
let http: FastifyInstance;
let metrics: FastifyInstance;
let grpcServer: GrpcServer;
let base = '';
let metricsUrl = '';
let grpc: TestClient;

beforeAll(async () => {
  http = createHttpApp({ dataplane, bodyLimit: 1 << 20 });
  await http.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(http.server.address() as { port: number }).port}`;
  metrics = createMetricsApp(catalog);
  await metrics.listen({ port: 0, host: '127.0.0.1' });
  metricsUrl = `http://127.0.0.1:${(metrics.server.address() as { port: number }).port}/metrics`;
  grpcServer = createGrpcServer({ dataplane });
  grpc = connect(await grpcServer.listen('127.0.0.1', 0));
});

afterAll(async () => {
  overloaded.open();
  timed.open();
  grpc.close();
  await grpcServer.close();
  await http.close();
  await metrics.close();
});

const httpInfer = (model: string, body: object) =>
  fetch(`${base}/v2/models/${model}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const jsonInput = (values: number[]) => ({ inputs: [{ name: 'IN', datatype: 'FP32', shape: [values.length], data: values }] });
const grpcInput = (model: string, values: number[], parameters: object = {}) => ({
  model_name: model,
  inputs: [{ name: 'IN', datatype: 'FP32', shape: [values.length] }],
  raw_input_contents: [Buffer.from(f32Bytes(values))],
  parameters,
});

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('max_queue_size: 4 under 64 concurrent clients', () => {
  it('HTTP: one runs, four wait, the rest get 503 at once; the server stays ready; nobody hangs', async () => {
    overloaded.close();
    const before = overloaded.stats.snapshot().failures_by_reason.REJECTED;
    const answers = Array.from({ length: 64 }, (_, i) => httpInfer('overloaded', jsonInput([i, i])));
    // The 59 refusals arrive while the one admitted execution is still held: they do not wait for it.
    await until(() => overloaded.stats.snapshot().failures_by_reason.REJECTED - before === 59, '59 rejections');
    const ready = await fetch(`${base}/v2/health/ready`);
    expect(ready.status).toBe(200);
    overloaded.open();
    const responses = await Promise.all(answers);
    const bodies = await Promise.all(responses.map(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> })));
    const refused = bodies.filter((b) => b.status === 503);
    expect(refused).toHaveLength(59);
    for (const r of refused) expect(r.body).toEqual({ error: 'Exceeds maximum queue size' });
    expect(bodies.filter((b) => b.status === 200)).toHaveLength(5);
    expect(overloaded.stats.snapshot().pending).toBe(0);
  });

  it('gRPC: the same, with UNAVAILABLE', async () => {
    overloaded.close();
    const before = overloaded.stats.snapshot();
    const calls = Array.from({ length: 64 }, (_, i) =>
      grpc.call('ModelInfer', grpcInput('overloaded', [i, i])).then(
        () => ({ code: 0, details: '' }),
        (e: { code: number; details: string }) => ({ code: e.code, details: e.details }),
      ),
    );
    await until(() => overloaded.stats.snapshot().failures_by_reason.REJECTED - before.failures_by_reason.REJECTED === 59, '59 rejections');
    expect((await grpc.health()).status).toBe('SERVING');
    expect(await grpc.call('ServerReady')).toEqual({ ready: true });
    overloaded.open();
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.code === 14 && r.details === 'Exceeds maximum queue size')).toHaveLength(59);
    expect(results.filter((r) => r.code === 0)).toHaveLength(5);
    const after = overloaded.stats.snapshot();
    expect(after.success.count - before.success.count).toBe(5);
    expect(after.fail.count - before.fail.count).toBe(59);
  });

  it('counts the rejections in statistics and in nv_inference_request_failure{reason="REJECTED"}', async () => {
    const stats = (await (await fetch(`${base}/v2/models/overloaded/stats`)).json()) as { model_stats: { inference_stats: { fail: { count: number } } }[] };
    expect(stats.model_stats[0].inference_stats.fail.count).toBe(118);
    const text = await (await fetch(metricsUrl)).text();
    expect(text).toContain('nv_inference_request_failure{model="overloaded",version="1",reason="REJECTED"} 118');
  });
});

describe('timeout and priority request parameters', () => {
  it("HTTP and gRPC: a request's shorter timeout expires in the queue with 503 / UNAVAILABLE", async () => {
    timed.close();
    const running = httpInfer('timed', jsonInput([1, 1]));
    const overHttp = await httpInfer('timed', { ...jsonInput([2, 2]), parameters: { timeout: 20_000 } });
    expect(overHttp.status).toBe(503);
    expect(await overHttp.json()).toEqual({ error: 'Request timeout expired' });
    const overGrpc = await statusOf(grpc.call('ModelInfer', grpcInput('timed', [3, 3], { timeout: { int64_param: 20_000 } })));
    expect(overGrpc).toEqual({ code: 14, details: 'Request timeout expired' });
    timed.open();
    expect((await running).status).toBe(200);
  });

  it('refuses a priority or timeout that is not an unsigned integer, with 400 / INVALID_ARGUMENT', async () => {
    const bad = await httpInfer('timed', { ...jsonInput([1, 1]), parameters: { priority: 'high' } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: `parameter 'priority' must be an unsigned integer, got "high"` });
    const badGrpc = await statusOf(grpc.call('ModelInfer', grpcInput('timed', [1, 1], { timeout: { double_param: 1.5 } })));
    expect(badGrpc).toEqual({ code: 3, details: "parameter 'timeout' must be an unsigned integer, got 1.5" });
  });

  it('lists schedule_policy among the server extensions', async () => {
    const meta = (await (await fetch(`${base}/v2`)).json()) as { extensions: string[] };
    expect(meta.extensions).toContain('schedule_policy');
  });
});

describe('response cache', () => {
  it('HTTP: an identical request is answered from the cache; classification applies to the cached scores', async () => {
    const first = await httpInfer('cached', jsonInput([0.1, 0.9, 0.3, 0.2]));
    const second = await httpInfer('cached', jsonInput([0.1, 0.9, 0.3, 0.2]));
    expect(first.status).toBe(200);
    const a = (await first.json()) as { outputs: { data: number[] }[] };
    const b = (await second.json()) as { outputs: { data: number[] }[] };
    expect(b.outputs[0].data).toEqual(a.outputs[0].data);
    expect(cached.sessions[0].runs).toHaveLength(1);
    const top = await httpInfer('cached', { ...jsonInput([0.1, 0.9, 0.3, 0.2]), outputs: [{ name: 'SCORES', parameters: { classification: 2 } }] });
    const topBody = (await top.json()) as { outputs: { data: string[] }[] };
    expect(topBody.outputs[0].data).toEqual(['0.900000:1:b', '0.300000:2:c']);
    // The classification request asked for SCORES by name: another key, so one more execution.
    expect(cached.sessions[0].runs).toHaveLength(2);
    const s = cached.stats.snapshot();
    expect(s.cache_hit.count).toBe(1);
    expect(s.cache_miss.count).toBe(2);
    expect(s.success.count).toBe(3);
    expect(s.execution_count).toBe(2);
  });

  it('gRPC: a request with other input bytes misses; a repeated one hits', async () => {
    const runs = cached.sessions[0].runs.length;
    const one = await grpc.call<{ raw_output_contents: Buffer[] }>('ModelInfer', grpcInput('cached', [1, 2, 3, 4]));
    const two = await grpc.call<{ raw_output_contents: Buffer[] }>('ModelInfer', grpcInput('cached', [1, 2, 3, 4]));
    const other = await grpc.call<{ raw_output_contents: Buffer[] }>('ModelInfer', grpcInput('cached', [4, 3, 2, 1]));
    const f32 = (b: Buffer) => readF32({ name: '', datatype: 'FP32', shape: [4], data: new Uint8Array(b) });
    expect(f32(two.raw_output_contents[0])).toEqual(f32(one.raw_output_contents[0]));
    expect(f32(other.raw_output_contents[0])).toEqual([4, 3, 2, 1]);
    expect(cached.sessions[0].runs.length - runs).toBe(2);
  });

  it('shows hits and misses in statistics and as nv_cache_* metrics for the cached model only', async () => {
    const s = cached.stats.snapshot();
    const stats = (await (await fetch(`${base}/v2/models/cached/stats`)).json()) as {
      model_stats: { inference_stats: { cache_hit: { count: number; ns: number }; cache_miss: { count: number; ns: number } } }[];
    };
    expect(stats.model_stats[0].inference_stats.cache_hit).toEqual(s.cache_hit);
    expect(stats.model_stats[0].inference_stats.cache_miss).toEqual(s.cache_miss);
    expect(s.cache_hit.count).toBe(2);
    expect(s.cache_miss.count).toBe(4);
    const text = await (await fetch(metricsUrl)).text();
    expect(text).toContain('nv_cache_num_hits_per_model{model="cached",version="1"} 2');
    expect(text).toContain('nv_cache_num_misses_per_model{model="cached",version="1"} 4');
    expect(text).toContain(`nv_cache_hit_duration_per_model{model="cached",version="1"} ${Math.floor(s.cache_hit.ns / 1000)}`);
    expect(text).toContain(`nv_cache_miss_duration_per_model{model="cached",version="1"} ${Math.floor(s.cache_miss.ns / 1000)}`);
    expect(text).not.toContain('nv_cache_num_hits_per_model{model="overloaded"');
    const overGrpc = await grpc.call<{ model_stats: { inference_stats: Record<string, { count: unknown; ns: unknown }> }[] }>('ModelStatistics', { name: 'cached' });
    const is = overGrpc.model_stats[0].inference_stats;
    expect([Number(is.cache_hit.count), Number(is.cache_hit.ns)]).toEqual([s.cache_hit.count, s.cache_hit.ns]);
    expect([Number(is.cache_miss.count), Number(is.cache_miss.ns)]).toEqual([s.cache_miss.count, s.cache_miss.ns]);
  });
});
