import { afterEach, describe, expect, it } from 'vitest';
import {
  buildPerfInputs,
  formatPerfReport,
  parseConcurrencyRange,
  perf,
  serverStatsDelta,
  type PerfResult,
} from '../../../src/commands/perf.js';
import type { ModelMetadata, ModelStatisticsJson } from '../../../src/client/v2-types.js';
import type { OfsError } from '../../../src/errors.js';
import { sumModel } from '../../fixtures/fake-models.js';
import { startGrpcServer } from '../../fixtures/grpc-server.js';
import { fakeClassifier, parseInferRequest, startFakeServer, type FakeServer } from '../client/fake-triton.js';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('parseConcurrencyRange', () => {
  it('reads start[:end[:step]]', () => {
    expect(parseConcurrencyRange('4')).toEqual({ start: 4, end: 4, step: 1 });
    expect(parseConcurrencyRange('1:8')).toEqual({ start: 1, end: 8, step: 1 });
    expect(parseConcurrencyRange('1:8:2')).toEqual({ start: 1, end: 8, step: 2 });
  });
  it('refuses malformed ranges', () => {
    for (const bad of ['', '0', '4:2', '1:2:0', 'a', '1:2:3:4', '-1']) {
      expect(() => parseConcurrencyRange(bad), bad).toThrow(expect.objectContaining({ code: 'OFS_BAD_ARGUMENT' }));
    }
  });
});

const stats = (inference: number, exec: number, success: number, successNs: number, queueNs: number, inferNs: number): ModelStatisticsJson => {
  const d = (count: number, ns: number) => ({ count, ns });
  return {
    name: 'm',
    version: '1',
    last_inference: 0,
    inference_count: inference,
    execution_count: exec,
    inference_stats: {
      success: d(success, successNs),
      fail: d(0, 0),
      queue: d(success, queueNs),
      compute_input: d(success, 1_000 * success),
      compute_infer: d(success, inferNs),
      compute_output: d(success, 2_000 * success),
      cache_hit: d(0, 0),
      cache_miss: d(0, 0),
    },
    response_stats: {},
    batch_stats: [],
    memory_usage: [],
  };
};

describe('serverStatsDelta', () => {
  it('averages the window per successful request, in microseconds', () => {
    // 10 more requests, 40 more items, 10 executions; +500 µs total request time → 50 µs each,
    // queue 100 µs/10 = 10, input 1, infer 300 µs/10 = 30, output 2 → overhead 50-10-1-30-2 = 7
    const before = [stats(8, 2, 2, 20_000, 2_000, 4_000)];
    const after = [stats(48, 12, 12, 520_000, 102_000, 304_000)];
    expect(serverStatsDelta(before, after)).toEqual({
      inferenceCount: 40,
      executionCount: 10,
      successCount: 10,
      avgRequestUs: 50,
      avgOverheadUs: 7,
      avgQueueUs: 10,
      avgComputeInputUs: 1,
      avgComputeInferUs: 30,
      avgComputeOutputUs: 2,
    });
  });
});

describe('buildPerfInputs', () => {
  const meta: ModelMetadata = {
    name: 'm',
    versions: ['1'],
    platform: 'p',
    inputs: [
      { name: 'IMG', datatype: 'FP32', shape: [-1, 3, 2, 2] },
      { name: 'LEN', datatype: 'INT32', shape: [-1, -1] },
    ],
    outputs: [],
  };

  it('prepends the batch size and fills variable dims from --shape', () => {
    const inputs = buildPerfInputs(meta, 8, 4, { LEN: [5] }, 0);
    expect(inputs.map((i) => i.shape)).toEqual([
      [4, 3, 2, 2],
      [4, 5],
    ]);
    expect(inputs.map((i) => i.data.byteLength)).toEqual([4 * 12 * 4, 4 * 5 * 4]);
    expect(Array.from(buildPerfInputs(meta, 8, 4, { LEN: [5] }, 0)[0].data)).toEqual(Array.from(inputs[0].data));
  });

  it('follows perf_analyzer on batch limits and variable dims', () => {
    expect(() => buildPerfInputs(meta, 8, 4, {}, 0)).toThrow(/--shape LEN:N/);
    expect(() => buildPerfInputs(meta, 2, 4, { LEN: [5] }, 0)).toThrow(/larger than max_batch_size 2/);
    const flat: ModelMetadata = { ...meta, inputs: [{ name: 'X', datatype: 'FP32', shape: [3] }] };
    expect(() => buildPerfInputs(flat, 0, 2, {}, 0)).toThrow(/does not support batching/);
    expect(buildPerfInputs(flat, 0, 1, {}, 0)[0].shape).toEqual([3]);
  });
});

describe('formatPerfReport', () => {
  it('prints perf_analyzer-style blocks and summary lines', () => {
    const latency = { count: 20, avg: 1500, std: 100, min: 1000, max: 2000, p50: 1400, p90: 1900, p95: 1950, p99: 2000 };
    const result: PerfResult = {
      url: 'http://localhost:8000',
      model: 'm',
      protocol: 'http',
      batchSize: 1,
      measurement: { mode: 'count', requestCount: 20 },
      concurrency: { start: 1, end: 2, step: 1 },
      levels: [
        { concurrency: 1, requestCount: 20, elapsedMs: 30, throughput: 666.666, latencyUs: latency, trials: 1, stable: true },
        {
          concurrency: 2,
          requestCount: 20,
          elapsedMs: 20,
          throughput: 1000,
          latencyUs: { ...latency, avg: 2000 },
          trials: 1,
          stable: true,
          server: {
            inferenceCount: 20,
            executionCount: 10,
            successCount: 20,
            avgRequestUs: 50,
            avgOverheadUs: 7,
            avgQueueUs: 10,
            avgComputeInputUs: 1,
            avgComputeInferUs: 30,
            avgComputeOutputUs: 2,
          },
        },
      ],
    };
    const text = formatPerfReport(result);
    expect(text).toContain('  Batch size: 1\n');
    expect(text).toContain('Request concurrency: 1\n  Client: \n    Request count: 20\n    Throughput: 666.67 infer/sec\n    p50 latency: 1400 usec');
    expect(text).toContain('    Avg latency: 1500 usec (standard deviation 100 usec)');
    expect(text).toContain(
      '    Avg request latency: 50 usec (overhead 7 usec + queue 10 usec + compute input 1 usec + compute infer 30 usec + compute output 2 usec)',
    );
    expect(text.split('\n').slice(-3)).toEqual([
      'Inferences/Second vs. Client Average Batch Latency',
      'Concurrency: 1, throughput: 666.67 infer/sec, latency 1500 usec',
      'Concurrency: 2, throughput: 1000.00 infer/sec, latency 2000 usec',
    ]);
    // the level without server stats prints no Server block
    expect(text.match(/ {2}Server: /g)).toHaveLength(1);
  });
});

describe('perf against a fake server', () => {
  it('runs each concurrency level for the request count and reads server stats deltas', async () => {
    server = await startFakeServer(fakeClassifier({ maxBatchSize: 4, labels: ['a', 'b', 'c'], statistics: true }));
    const result = await perf({ model: 'fake', url: server.url, batchSize: 2, concurrencyRange: '1:2', requestCount: 20 });

    const infers = server.requests.filter((r) => r.url === '/v2/models/fake/infer');
    expect(infers).toHaveLength(1 + 20 + 20); // one unmeasured check, then 20 per level
    const first = parseInferRequest(infers[0]);
    expect(first.json.inputs[0].shape).toEqual([2, 3, 4, 4]);
    expect(first.json.parameters).toEqual({ binary_data_output: true });
    // the same seeded batch every time
    expect(parseInferRequest(infers[40]).blocks.get('INPUT_0')).toEqual(first.blocks.get('INPUT_0'));

    expect(result.levels.map((l) => [l.concurrency, l.requestCount])).toEqual([
      [1, 20],
      [2, 20],
    ]);
    for (const level of result.levels) {
      expect(level.throughput).toBeCloseTo((20 * 2 * 1000) / level.elapsedMs, 6);
      expect(level.latencyUs.p50).toBeGreaterThan(0);
      expect(level.latencyUs.p50).toBeLessThanOrEqual(level.latencyUs.p99);
      // the fake counts 1 µs of queue and 5 µs of compute per execution, batch 2 per request
      expect(level.server).toMatchObject({ inferenceCount: 40, executionCount: 20, successCount: 20, avgQueueUs: 1, avgComputeInferUs: 5 });
    }
    expect(formatPerfReport(result)).toMatch(/Concurrency: 2, throughput: \d+\.\d\d infer\/sec, latency \d+ usec$/);
  });

  it('measures for the interval when no request count is given, without stats when not advertised', async () => {
    server = await startFakeServer(fakeClassifier({ maxBatchSize: 0, labels: ['a'], delayMs: 2 }));
    const result = await perf({ model: 'fake', url: server.url, measurementIntervalMs: 500 });
    expect(result.measurement).toEqual({ mode: 'time', intervalMs: 500 });
    expect(result.levels).toHaveLength(1);
    // Several requests in one window (not a fixed count); loose, since a loaded CI machine is slow.
    expect(result.levels[0].requestCount).toBeGreaterThan(1);
    expect(result.levels[0].server).toBeUndefined();
    expect(server.requests.some((r) => r.url.endsWith('/stats'))).toBe(false);
  });

  it('refuses an unknown protocol and reports server errors', async () => {
    await expect(perf({ model: 'm', protocol: 'tcp' })).rejects.toThrow(expect.objectContaining({ code: 'OFS_BAD_ARGUMENT' }));
    server = await startFakeServer(fakeClassifier({ maxBatchSize: 1, labels: ['a'] }));
    const e = (await perf({ model: 'other', url: server.url, requestCount: 2 }).catch((x: unknown) => x)) as OfsError;
    expect(e.code).toBe('OFS_SERVER_ERROR');
    expect(e.message).toContain('404');
  });
});

describe('perf -i grpc against the gRPC endpoint', () => {
  it('runs --request-count 10 at concurrency 1 and 2 over one channel, with server stats', async () => {
    const model = sumModel({ maxBatchSize: 4 });
    const grpc = await startGrpcServer(model);
    try {
      const result = await perf({ model: 'simple', url: grpc.url, protocol: 'grpc', batchSize: 2, concurrencyRange: '1:2', requestCount: 10 });
      expect(result.protocol).toBe('grpc');
      expect(result.url).toBe(grpc.url);
      expect(result.levels.map((l) => [l.concurrency, l.requestCount])).toEqual([
        [1, 10],
        [2, 10],
      ]);
      // one unmeasured check, then 10 per level, each a batch of 2 seeded random INT32 rows
      const runs = model.sessions[0].runs;
      expect(runs).toHaveLength(21);
      expect(runs[0].inputs.map((t) => t.shape)).toEqual([
        [2, 16],
        [2, 16],
      ]);
      expect(Buffer.from(runs[20].inputs[0].data).equals(Buffer.from(runs[0].inputs[0].data))).toBe(true);
      for (const level of result.levels) {
        expect(level.throughput).toBeCloseTo((10 * 2 * 1000) / level.elapsedMs, 6);
        expect(level.latencyUs.p50).toBeGreaterThan(0);
        expect(level.server).toMatchObject({ inferenceCount: 20, successCount: 10 });
      }
      expect(formatPerfReport(result)).toContain('  Service Kind: GRPC\n');
    } finally {
      await grpc.close();
    }
  });

  it('reports the server\'s message for an unknown model', async () => {
    const grpc = await startGrpcServer(sumModel());
    try {
      const e = (await perf({ model: 'nope', url: grpc.url, protocol: 'grpc', requestCount: 1 }).catch((x: unknown) => x)) as OfsError;
      expect(e.code).toBe('OFS_SERVER_ERROR');
      expect(e.message).toContain("Request for unknown model: 'nope' is not found");
    } finally {
      await grpc.close();
    }
  });
});
