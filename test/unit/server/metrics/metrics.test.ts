import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createMetricsApp } from '../../../../src/server/metrics/app.js';
import { METRIC_NAMES } from '../../../../src/server/metrics/names.js';
import { DataPlane } from '../../../../src/server/dataplane.js';
import { FakeCatalog, errorModel, f32, i32, sumModel } from '../../../fixtures/fake-models.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** The value of one sample line `name{labels} value`, or undefined. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('GET /metrics', () => {
  it('exposes Triton\'s metric names with values read from the model stats', async () => {
    const simple = sumModel();
    const broken = errorModel();
    const catalog = new FakeCatalog().add(simple, broken);
    const dp = new DataPlane({ catalog });
    const ones = (n: number) => i32('x', [n], new Array(n).fill(1)).data;
    for (const batch of [1, 3]) {
      await dp.infer({
        model: 'simple',
        inputs: [
          { name: 'INPUT0', datatype: 'INT32', shape: [batch, 16], data: ones(16 * batch) },
          { name: 'INPUT1', datatype: 'INT32', shape: [batch, 16], data: ones(16 * batch) },
        ],
      });
    }
    await dp.infer({ model: 'simple', inputs: [] }).catch(() => undefined);
    await dp.infer({ model: 'error', inputs: [{ ...f32('INPUT', [1], [1]) }] }).catch(() => undefined);

    app = createMetricsApp(catalog);
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    const text = res.body;
    for (const name of Object.values(METRIC_NAMES)) {
      expect(text).toContain(`# HELP ${name} `);
      expect(text).toContain(`# TYPE ${name} `);
    }
    const simpleLabels = 'model="simple",version="1"';
    expect(sample(text, METRIC_NAMES.requestSuccess, simpleLabels)).toBe(2);
    expect(sample(text, METRIC_NAMES.inferenceCount, simpleLabels)).toBe(4);
    expect(sample(text, METRIC_NAMES.execCount, simpleLabels)).toBe(2);
    expect(sample(text, METRIC_NAMES.pendingRequests, simpleLabels)).toBe(0);
    expect(sample(text, METRIC_NAMES.requestFailure, `${simpleLabels},reason="OTHER"`)).toBe(1);
    expect(sample(text, METRIC_NAMES.requestFailure, `${simpleLabels},reason="BACKEND"`)).toBe(0);
    expect(sample(text, METRIC_NAMES.requestFailure, 'model="error",version="1",reason="BACKEND"')).toBe(1);
    expect(sample(text, METRIC_NAMES.requestSuccess, 'model="error",version="1"')).toBe(0);
    expect(text).toMatch(/# TYPE nv_inference_request_success counter/);
    expect(text).toMatch(/# TYPE nv_inference_pending_request_count gauge/);

    // Durations are the stats' ns totals in µs: the same numbers /v2/models/stats reports.
    const stats = simple.stats.snapshot();
    expect(sample(text, METRIC_NAMES.requestDuration, simpleLabels)).toBe(Math.floor(stats.success.ns / 1000));
    expect(sample(text, METRIC_NAMES.queueDuration, simpleLabels)).toBe(Math.floor(stats.queue.ns / 1000));
    expect(sample(text, METRIC_NAMES.computeInferDuration, simpleLabels)).toBe(Math.floor(stats.compute_infer.ns / 1000));

    const total = Number(/^nv_cpu_memory_total_bytes (\S+)$/m.exec(text)?.[1]);
    const used = Number(/^nv_cpu_memory_used_bytes (\S+)$/m.exec(text)?.[1]);
    expect(total).toBeGreaterThan(0);
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThanOrEqual(total);
    const cpu = Number(/^nv_cpu_utilization (\S+)$/m.exec(text)?.[1]);
    expect(cpu).toBeGreaterThanOrEqual(0);
    expect(cpu).toBeLessThanOrEqual(1);
  });

  it('reflects new requests at the next scrape and uses a registry per app', async () => {
    const simple = sumModel();
    const catalog = new FakeCatalog().add(simple);
    app = createMetricsApp(catalog);
    const other = createMetricsApp(new FakeCatalog());
    const before = await app.inject({ method: 'GET', url: '/metrics/' });
    expect(sample(before.body, METRIC_NAMES.requestSuccess, 'model="simple",version="1"')).toBe(0);
    simple.stats.recordSuccess(5000, 1000);
    const after = await app.inject({ method: 'GET', url: '/metrics' });
    expect(sample(after.body, METRIC_NAMES.requestSuccess, 'model="simple",version="1"')).toBe(1);
    expect(sample(after.body, METRIC_NAMES.requestDuration, 'model="simple",version="1"')).toBe(5);
    expect((await other.inject({ method: 'GET', url: '/metrics' })).body).not.toContain('model="simple"');
    await other.close();
  });

  it('answers other paths with 404 and other methods with 405', async () => {
    app = createMetricsApp(new FakeCatalog());
    expect((await app.inject({ method: 'GET', url: '/metricsx' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/metrics' })).statusCode).toBe(405);
  });
});
