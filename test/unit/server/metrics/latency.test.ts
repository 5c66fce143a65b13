import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createScheduler } from '../../../../src/core/scheduler/create.js';
import type { ServedModel } from '../../../../src/core/served-model.js';
import { createModelStats } from '../../../../src/core/stats/stats.js';
import { DataPlane } from '../../../../src/server/dataplane.js';
import { createMetricsApp } from '../../../../src/server/metrics/app.js';
import { everyInterval } from '../../../../src/server/metrics/registry.js';
import { DEFAULT_METRICS_CONFIG, parseMetricsConfig } from '../../../../src/server/metrics/config.js';
import { createLatencyMetrics, type LatencyMetrics } from '../../../../src/server/metrics/latency.js';
import { LATENCY_METRIC_NAMES as L, METRIC_NAMES as N } from '../../../../src/server/metrics/names.js';
import { FakeCatalog, i32, sumModel } from '../../../fixtures/fake-models.js';

/** --metrics-config (Triton's latency summaries and histograms) and --metrics-interval-ms. */

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** Triton's "simple" model with its stats reporting to `latency`, as the lifecycle wires it. */
function observedModel(latency: LatencyMetrics, name = 'simple'): ServedModel {
  const base = sumModel({ name });
  const stats = createModelStats(Date.now, latency.observer(base.name, base.version));
  return { ...base, stats, scheduler: createScheduler(base.config, base.sessions, stats) };
}

async function inferTimes(dp: DataPlane, model: string, n: number): Promise<void> {
  const ones = i32('x', [1, 16], new Array(16).fill(1)).data;
  for (let i = 0; i < n; i++) {
    await dp.infer({
      model,
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: ones },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: ones },
      ],
    });
  }
}

/** Sample lines of one metric (with suffix) whose labels include every given pair, in any order. */
function samples(text: string, name: string, labels: Record<string, string>): number[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
    .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
}

async function scrape(a: FastifyInstance): Promise<string> {
  const res = await a.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  return res.body;
}

describe('parseMetricsConfig', () => {
  it("starts from Triton's defaults", () => {
    expect(parseMetricsConfig([])).toEqual(DEFAULT_METRICS_CONFIG);
    expect(DEFAULT_METRICS_CONFIG).toMatchObject({ counterLatencies: true, summaryLatencies: false, histogramLatencies: false });
  });

  it('reads each setting, last one wins', () => {
    const c = parseMetricsConfig(['summary_latencies=true', 'histogram_latencies=1', 'counter_latencies=false', 'summary_quantiles=0.99:0.001,0.5:0.05']);
    expect(c).toEqual({
      counterLatencies: false,
      summaryLatencies: true,
      histogramLatencies: true,
      summaryQuantiles: [
        { quantile: 0.5, error: 0.05 },
        { quantile: 0.99, error: 0.001 },
      ],
    });
    expect(parseMetricsConfig(['summary_latencies=true', 'summary_latencies=false']).summaryLatencies).toBe(false);
  });

  it.each([
    ['summary_latencies', /expected <setting>=<value>/],
    ['gpu_metrics=true', /setting among counter_latencies, summary_latencies, histogram_latencies, summary_quantiles/],
    ['summary_latencies=yes please', /summary_latencies=yes please: expected true or false/],
    ['summary_quantiles=0.5', /'0.5' is not <quantile>:<error>/],
    ['summary_quantiles=1.5:0.1', /'1.5:0.1' is not <quantile>:<error>/],
  ])('refuses %s, naming --metrics-config', (entry, message) => {
    expect(() => parseMetricsConfig([entry])).toThrow(message);
    expect(() => parseMetricsConfig([entry])).toThrow(/--metrics-config/);
  });
});

describe('latency summaries (summary_latencies=true)', () => {
  it("exposes Triton's five summaries per model version, agreeing with the counters", async () => {
    const config = parseMetricsConfig(['summary_latencies=true']);
    const latency = createLatencyMetrics(config);
    const catalog = new FakeCatalog().add(observedModel(latency));
    await inferTimes(new DataPlane({ catalog }), 'simple', 3);
    app = createMetricsApp(catalog, { latency });
    const text = await scrape(app);
    const labels = { model: 'simple', version: '1' };
    for (const name of [L.requestSummary, L.queueSummary, L.computeInputSummary, L.computeInferSummary, L.computeOutputSummary]) {
      expect(text).toContain(`# TYPE ${name} summary`);
      expect(samples(text, `${name}_count`, labels), name).toEqual([3]);
      for (const q of ['0.5', '0.9', '0.95', '0.99']) expect(samples(text, name, { ...labels, quantile: q }), `${name} ${q}`).toHaveLength(1);
    }
    // _count is the success counter and _sum the duration counter (which Triton floors to whole µs)
    expect(samples(text, N.requestSuccess, labels)).toEqual([3]);
    const [sum] = samples(text, `${L.requestSummary}_sum`, labels);
    const [counter] = samples(text, N.requestDuration, labels);
    expect(sum).toBeGreaterThan(0);
    expect(Math.abs((sum as number) - (counter as number))).toBeLessThanOrEqual(3);
    const [q99] = samples(text, L.requestSummary, { ...labels, quantile: '0.99' });
    expect(q99).toBeLessThanOrEqual(sum as number);
    expect(text).not.toContain(L.firstResponseHistogram);
  });

  it('uses the configured quantiles', async () => {
    const latency = createLatencyMetrics(parseMetricsConfig(['summary_latencies=true', 'summary_quantiles=0.25:0.01,0.75:0.01']));
    const catalog = new FakeCatalog().add(observedModel(latency));
    await inferTimes(new DataPlane({ catalog }), 'simple', 1);
    app = createMetricsApp(catalog, { latency });
    const text = await scrape(app);
    const quantiles = [...text.matchAll(new RegExp(`^${L.queueSummary}\\{[^}]*quantile="([0-9.]+)"`, 'gm'))].map((m) => m[1]);
    expect(quantiles).toEqual(['0.25', '0.75']);
  });

  it('drops the series of an unloaded model', async () => {
    const latency = createLatencyMetrics(parseMetricsConfig(['summary_latencies=true']));
    const catalog = new FakeCatalog(true).add(observedModel(latency, 'a'), observedModel(latency, 'b'));
    const dp = new DataPlane({ catalog });
    await inferTimes(dp, 'a', 1);
    await inferTimes(dp, 'b', 1);
    app = createMetricsApp(catalog, { latency });
    expect(samples(await scrape(app), `${L.requestSummary}_count`, { model: 'b' })).toEqual([1]);
    await catalog.unload('b');
    const text = await scrape(app);
    expect(samples(text, `${L.requestSummary}_count`, { model: 'b' })).toEqual([]);
    expect(samples(text, `${L.requestSummary}_count`, { model: 'a' })).toEqual([1]);
  });

  it('are absent by default, as in Triton', async () => {
    const latency = createLatencyMetrics(DEFAULT_METRICS_CONFIG);
    expect(latency.observer('m', '1')).toBeUndefined();
    const catalog = new FakeCatalog().add(sumModel());
    app = createMetricsApp(catalog, { latency });
    const text = await scrape(app);
    for (const name of Object.values(L)) expect(text).not.toContain(name);
    expect(text).toContain(`# TYPE ${N.queueDuration} counter`);
  });
});

describe('counter_latencies=false and histogram_latencies=true', () => {
  it('removes the *_duration_us counters and declares the first-response histogram', async () => {
    const config = parseMetricsConfig(['counter_latencies=false', 'histogram_latencies=true']);
    const latency = createLatencyMetrics(config);
    const catalog = new FakeCatalog().add(observedModel(latency));
    await inferTimes(new DataPlane({ catalog }), 'simple', 1);
    app = createMetricsApp(catalog, { latency, counterLatencies: config.counterLatencies });
    const text = await scrape(app);
    for (const name of [N.requestDuration, N.queueDuration, N.computeInputDuration, N.computeInferDuration, N.computeOutputDuration]) {
      expect(text).not.toContain(name);
    }
    expect(samples(text, N.requestSuccess, { model: 'simple' })).toEqual([1]);
    expect(text).toContain(`# TYPE ${L.firstResponseHistogram} histogram`);
    // Triton observes it for decoupled models only; no ofserve model is decoupled
    expect(samples(text, `${L.firstResponseHistogram}_count`, { model: 'simple' })).toEqual([]);
  });
});

describe('--metrics-interval-ms', () => {
  it('everyInterval samples at most once per interval', () => {
    let clock = 0;
    let taken = 0;
    const value = everyInterval(1000, () => clock, () => ++taken);
    expect(value()).toBe(1);
    clock = 999;
    expect(value()).toBe(1);
    clock = 1000;
    expect(value()).toBe(2);
    clock = 1500;
    expect(value()).toBe(2);
    clock = 2600;
    expect(value()).toBe(3);
  });

  it('scrapes within one interval repeat the per-interval CPU metrics', async () => {
    let clock = 0;
    app = createMetricsApp(new FakeCatalog(), { intervalMs: 1000, now: () => clock });
    const cpuLines = async () =>
      (await scrape(app as FastifyInstance)).split('\n').filter((l) => /^nv_cpu_(utilization|memory_total_bytes|memory_used_bytes) /.test(l));
    const first = await cpuLines();
    expect(first).toHaveLength(3);
    const ballast = Buffer.alloc(32 * 1024 * 1024, 1); // memory use moves; the reported value must not
    clock = 999;
    expect(await cpuLines()).toEqual(first);
    expect(ballast.length).toBeGreaterThan(0);
  });
});
