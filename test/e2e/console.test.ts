import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LatencyReportJson } from '../../src/server/http/console.js';
import { solidImage } from '../fixtures/images.js';
import { REPO_ROOT } from '../fixtures/models.js';

/**
 * The web console in a real browser: Debian's chromium (`apt-get install -y chromium`, done by .ci/run)
 * driven headless by playwright-core against `bin/ofserve serve` on the example store.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const bin = join(REPO_ROOT, 'bin', 'ofserve.js');
if (!CHROMIUM) console.warn('console.test.ts: skipped, no chromium binary (apt-get install -y chromium, or set CHROMIUM_PATH)');

let dir: string;
let server: ResultPromise | undefined;
let log = '';
let base = '';
let browser: Browser | undefined;

async function waitFor(pattern: RegExp, ms = 60_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = pattern.exec(log);
    if (m) return m;
    if (Date.now() > deadline || server?.exitCode !== null) throw new Error(`no ${pattern} in:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `n` binary-tensor requests of an all-black image to an image model's first input. */
async function inferBlack(model: string, n: number): Promise<void> {
  const meta = (await (await fetch(`${base}/v2/models/${model}`)).json()) as { inputs: { name: string; shape: number[] }[]; outputs: { name: string }[] };
  const shape = meta.inputs[0].shape.map((d) => (d < 0 ? 1 : d));
  const data = Buffer.alloc(4 * shape.reduce((a, b) => a * b, 1));
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: meta.inputs[0].name, datatype: 'FP32', shape, parameters: { binary_data_size: data.length } }],
      outputs: [{ name: meta.outputs[0].name, parameters: { binary_data: false } }],
    }),
  );
  for (let i = 0; i < n; i++) {
    const r = await fetch(`${base}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { 'Inference-Header-Content-Length': String(header.length), 'Content-Type': 'application/octet-stream' },
      body: Buffer.concat([header, data]),
    });
    expect(r.status, await r.text()).toBe(200);
  }
}

describe.skipIf(!CHROMIUM)('web console (/console) in headless chromium', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ofserve-console-'));
    const init = await execa('node', [bin, 'init', '--example', '-o', 'store'], { cwd: dir, reject: false });
    expect(init.exitCode, init.stderr).toBe(0);
    await solidImage(join(dir, 'red.png'), { r: 255, g: 0, b: 0 }, 40, 30);
    // Explicit mode with only the colour classifier loaded: ResNet-50 is listed (and loadable) without
    // spending seconds loading it.
    server = execa(
      'node',
      [bin, 'serve', '--model-store', 'store', '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', '--http-address', '127.0.0.1',
        '--model-control-mode', 'explicit', '--load-model', 'color_classifier'],
      { cwd: dir, reject: false, env: { NO_COLOR: '1' } },
    );
    server.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    server.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    base = `http://127.0.0.1:${(await waitFor(/Started HTTPService at [^:]+:(\d+)/))[1]}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) server.kill('SIGTERM');
    await server?.catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('loads without console errors, lists the example models, classifies red.png as red', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      // The refused load of no_such_model is a 400 the browser logs itself; the page shows it in #status.
      if (m.type() === 'error' && !m.text().includes('status of 400')) errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/no_such_model/load')) errors.push(`${r.status()} ${r.url()}`);
    });
    const root = await page.goto(`${base}/`);
    expect(root?.status()).toBe(200);
    await page.click('a[href="/console"]');
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });

    // A model this server's index does not list (unloaded, or never loaded in explicit mode) is 'absent'.
    const state = async (model: string) => {
      const row = page.locator(`#models tr[data-model="${model}"] td`);
      return (await row.count()) === 0 ? 'absent' : row.nth(2).textContent();
    };
    await expect.poll(() => state('color_classifier'), { timeout: 10_000 }).toBe('READY');
    expect(await page.locator('#server-info').textContent()).toContain('statistics');

    // Explicit mode: unload and load again from the page; ResNet-50 (never loaded, so absent from this
    // server's index) can be loaded by name.
    expect(await page.locator('#load-form').isVisible()).toBe(true);
    await page.click('#models tr[data-model="color_classifier"] button[data-model]');
    await expect.poll(() => state('color_classifier'), { timeout: 10_000 }).toMatch(/^(UNAVAILABLE|absent)$/);
    await page.fill('#load-name', 'color_classifier');
    await page.click('#load-form button');
    await expect.poll(() => state('color_classifier'), { timeout: 20_000 }).toBe('READY');
    await page.fill('#load-name', 'no_such_model');
    await page.click('#load-form button');
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 10_000 }).toContain('no model folder');

    await page.selectOption('#classify-model', 'color_classifier');
    await page.setInputFiles('#file', join(dir, 'red.png'));
    await page.waitForSelector('#classify-result tr.prediction', { timeout: 15_000 });
    expect(await page.locator('#classify-error').textContent()).toBe('');
    expect(await page.locator('#classify-result tr.prediction td.label').first().textContent()).toBe('red');

    // The statistics charts pick up the request once two polls have passed.
    await page.waitForSelector('.model-stats[data-model="color_classifier"] svg polyline', { timeout: 15_000 });

    // Latency percentiles: a few more requests, then the page's p50/p90/p99 are the server's figures
    // over the same requests (whatever this machine's latencies are).
    await inferBlack('color_classifier', 9);
    const report = (await (await fetch(`${base}/console/api/latency`)).json()) as LatencyReportJson;
    const recent = report.models.find((m) => m.name === 'color_classifier');
    expect(recent?.count).toBe(10);
    const [p50, p90, p99] = [recent!.p50_us!, recent!.p90_us!, recent!.p99_us!];
    expect(p50).toBeGreaterThan(0);
    expect(p50).toBeLessThanOrEqual(p90);
    expect(p90).toBeLessThanOrEqual(p99);
    const legend = (key: string) => page.locator(`.model-stats[data-model="color_classifier"] .legend-item[data-series="${key}"]`);
    const shown = () => Promise.all(['p50', 'p90', 'p99'].map((k) => legend(k).getAttribute('data-us')));
    await expect.poll(shown, { timeout: 10_000 }).toEqual([String(p50), String(p90), String(p99)]);
    expect(await legend('p99').textContent()).toBe(`p99 ${(p99 / 1000).toFixed(2)}`);
    // Attached, not visible: a flat line has an empty bounding box, which playwright calls hidden.
    await page.waitForSelector('.model-stats[data-model="color_classifier"] svg polyline.line-p99', { state: 'attached', timeout: 10_000 });
    expect(await page.locator('#metrics').textContent()).toContain('nv_inference_request_success');

    const shot = join(dir, 'console.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect((await stat(shot)).size).toBeGreaterThan(10_000);
    if (process.env.OFSERVE_CONSOLE_SCREENSHOT) await page.screenshot({ path: process.env.OFSERVE_CONSOLE_SCREENSHOT, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('serves its assets with a same-origin CSP and nothing outside the asset list', async () => {
    const page = await fetch(`${base}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    expect((await fetch(`${base}/console/console.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${base}/console/..%2Fconsole.ts`)).status).toBe(404);
    expect((await fetch(`${base}/console/package.json`)).status).toBe(404);
  });
});
