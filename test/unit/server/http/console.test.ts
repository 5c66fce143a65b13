import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createScheduler } from '../../../../src/core/scheduler/create.js';
import { composeObservers } from '../../../../src/core/stats/observers.js';
import { createRecentLatency, readyVersionRefs } from '../../../../src/core/stats/recent-latency.js';
import { percentiles } from '../../../../src/core/stats/latency-window.js';
import { createModelStats } from '../../../../src/core/stats/stats.js';
import { createHttpApp } from '../../../../src/server/http/app.js';
import { CONSOLE_ASSETS_DIR, type ConsoleOptions, type LatencyReportJson } from '../../../../src/server/http/console.js';
import { applyHttpRestrictions } from '../../../../src/server/http/restricted-api.js';
import { parseRestrictions } from '../../../../src/server/restricted-api.js';
import { DataPlane } from '../../../../src/server/dataplane.js';
import { FakeCatalog, i32, sumModel } from '../../../fixtures/fake-models.js';
import { REPO_ROOT } from '../../../fixtures/models.js';

function app(console?: ConsoleOptions) {
  const catalog = new FakeCatalog().add(sumModel());
  return createHttpApp({ dataplane: new DataPlane({ catalog }), console });
}

describe('web console routes', () => {
  it('links / to /console and serves the page, script and style with a same-origin CSP', async () => {
    const a = app({ controlMode: 'explicit' });
    const root = await a.inject({ method: 'GET', url: '/' });
    expect(root.statusCode).toBe(200);
    expect(root.body).toContain('href="/console"');
    const page = await a.inject({ method: 'GET', url: '/console' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    // Offline: nothing but same-origin references in the page and its script.
    const script = await a.inject({ method: 'GET', url: '/console/console.js' });
    expect(script.headers['content-type']).toMatch(/javascript/);
    for (const body of [page.body, script.body]) expect(body.replace('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:\/\//);
    expect((await a.inject({ method: 'GET', url: '/console/console.css' })).statusCode).toBe(200);
    await a.close();
  });

  it('tells the page the control mode and whether metrics exist', async () => {
    const on = app({ controlMode: 'explicit', metricsText: async () => 'nv_x 1\n' });
    expect(JSON.parse((await on.inject({ method: 'GET', url: '/console/settings.json' })).body)).toEqual({
      controlMode: 'explicit',
      restrictedApis: [],
      metrics: true,
      latency: false,
    });
    expect((await on.inject({ method: 'GET', url: '/console/metrics' })).body).toBe('nv_x 1\n');
    const off = app({ controlMode: 'none' });
    expect((await off.inject({ method: 'GET', url: '/console/metrics' })).statusCode).toBe(404);
    await on.close();
    await off.close();
  });

  it('serves only the listed assets', async () => {
    const a = app({ controlMode: 'none' });
    for (const url of ['/console/..%2F..%2Fapp.ts', '/console/..%2Fconsole.ts', '/console/toString', '/console/constructor', '/console/index.htm']) {
      expect((await a.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    }
    await a.close();
  });

  it('is absent when --allow-console=false (no console option)', async () => {
    const a = app(undefined);
    for (const url of ['/', '/console', '/console/console.js', '/console/api/latency']) expect((await a.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    // The Triton API is unchanged either way.
    expect((await a.inject({ method: 'GET', url: '/v2/health/live' })).statusCode).toBe(200);
    await a.close();
  });

  it('reads its assets from src/, which the package ships', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(CONSOLE_ASSETS_DIR.startsWith(join(REPO_ROOT, 'src'))).toBe(true);
    expect(pkg.files).toContain('src');
    await expect(readFile(join(CONSOLE_ASSETS_DIR, 'index.html'), 'utf8')).resolves.toContain('console.js');
  });
});

/**
 * A server as serve wires it: the model's stats report to the console's recent-latency windows (and to
 * a spy standing in for the Prometheus summaries, to show the hook feeds both), the console summarizes
 * the catalog's READY versions.
 */
function latencyServer(restrictedApi: string[] = []) {
  const restrictions = parseRestrictions('--http-restricted-api', restrictedApi);
  const recent = createRecentLatency();
  const seenNs: number[] = [];
  const base = sumModel();
  const stats = createModelStats(Date.now, composeObservers({ onSuccess: (ns) => seenNs.push(ns) }, recent.observer(base.name, base.version)));
  const catalog = new FakeCatalog().add({ ...base, stats, scheduler: createScheduler(base.config, base.sessions, stats) });
  const dataplane = new DataPlane({ catalog });
  const app = createHttpApp({
    dataplane,
    console: {
      controlMode: 'none',
      restrictedApis: [...restrictions.keys()],
      latency: { windowMs: recent.windowMs, capacity: recent.capacity, summarize: () => recent.summarize(readyVersionRefs(catalog)) },
    },
  });
  applyHttpRestrictions(app, restrictions);
  const infer = async (n: number): Promise<void> => {
    const ones = i32('x', [1, 16], new Array(16).fill(1)).data;
    for (let i = 0; i < n; i++) {
      await dataplane.infer({
        model: base.name,
        inputs: [
          { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: ones },
          { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: ones },
        ],
      });
    }
  };
  return { app, infer, seenNs };
}

describe('GET /console/api/latency', () => {
  it('reports p50/p90/p99 in µs of the requests the model answered, per model and version', async () => {
    const { app, infer, seenNs } = latencyServer();
    const empty = await app.inject({ method: 'GET', url: '/console/api/latency' });
    expect(empty.statusCode).toBe(200);
    expect(empty.headers['content-type']).toMatch(/^application\/json/);
    const none = { count: 0, p50_us: null, p90_us: null, p99_us: null };
    expect(JSON.parse(empty.body)).toEqual({ window_s: 60, max_samples: 2048, models: [{ name: 'simple', ...none, versions: [{ version: '1', ...none }] }] });

    await infer(25);
    expect(seenNs).toHaveLength(25);
    const [p50, p90, p99] = percentiles(seenNs, [50, 90, 99])!.map((ns) => ns / 1000);
    const report = JSON.parse((await app.inject({ method: 'GET', url: '/console/api/latency' })).body) as LatencyReportJson;
    const figures = { count: 25, p50_us: p50, p90_us: p90, p99_us: p99 };
    expect(report.models).toEqual([{ name: 'simple', ...figures, versions: [{ version: '1', ...figures }] }]);
    expect(p50).toBeGreaterThan(0);
    expect(p50).toBeLessThanOrEqual(p90);
    expect(p90).toBeLessThanOrEqual(p99);
    expect(JSON.parse((await app.inject({ method: 'GET', url: '/console/settings.json' })).body)).toMatchObject({ latency: true });
    await app.close();
  });

  it("is refused like /v2/models/stats when --http-restricted-api restricts 'statistics'", async () => {
    const { app, infer } = latencyServer(['statistics:admin-key=secret']);
    await infer(3);
    for (const url of ['/console/api/latency', '/v2/models/stats']) {
      const refused = await app.inject({ method: 'GET', url });
      expect(refused.statusCode, url).toBe(403);
      expect(JSON.parse(refused.body), url).toEqual({ error: "This API is restricted, expecting header 'admin-key'" });
    }
    const allowed = await app.inject({ method: 'GET', url: '/console/api/latency', headers: { 'admin-key': 'secret' } });
    expect(allowed.statusCode).toBe(200);
    expect((JSON.parse(allowed.body) as LatencyReportJson).models[0].count).toBe(3);
    // The page itself stays reachable and is told to hide its statistics.
    expect((await app.inject({ method: 'GET', url: '/console' })).statusCode).toBe(200);
    expect(JSON.parse((await app.inject({ method: 'GET', url: '/console/settings.json' })).body)).toMatchObject({ restrictedApis: ['statistics'] });
    await app.close();
  });

  it('stays open when only other APIs are restricted, and is 404 on a console without percentiles', async () => {
    const { app, infer } = latencyServer(['model-repository:admin-key=secret']);
    await infer(1);
    expect((await app.inject({ method: 'GET', url: '/console/api/latency' })).statusCode).toBe(200);
    await app.close();
    const bare = createHttpApp({ dataplane: new DataPlane({ catalog: new FakeCatalog().add(sumModel()) }), console: { controlMode: 'none' } });
    expect((await bare.inject({ method: 'GET', url: '/console/api/latency' })).statusCode).toBe(404);
    await bare.close();
  });
});
