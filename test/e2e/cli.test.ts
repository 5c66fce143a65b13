import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catJpg, imagenetLabels, solidImage } from '../fixtures/images.js';
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from '../fixtures/models.js';

/**
 * The product as a user runs it: bin/ofserve (built dist/) as child processes — init --example,
 * validate, serve, classify — and a graceful stop.
 */

const bin = join(REPO_ROOT, 'bin', 'ofserve.js');
const ofserve = (args: string[], opts: { cwd: string }) => execa('node', [bin, ...args], { ...opts, reject: false, env: { NO_COLOR: '1' } });

let dir: string;
let server: ResultPromise | undefined;
let serverLog = '';
let url = '';

async function waitForPort(): Promise<string> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const m = /Started HTTPService at [^:]+:(\d+)/.exec(serverLog);
    if (m) return `127.0.0.1:${m[1]}`;
    if (server?.exitCode !== null && server?.exitCode !== undefined) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not start:\n${serverLog}`);
}

describe('ofserve end to end', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ofserve-e2e-'));
    const init = await ofserve(['init', '--example', '-o', 'model_repository'], { cwd: dir });
    expect(init.exitCode, init.stderr).toBe(0);
    server = execa('node', [bin, 'serve', '--model-store', 'model_repository', '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', '--http-address', '127.0.0.1'], {
      cwd: dir,
      reject: false,
    });
    server.stderr?.on('data', (d: Buffer) => (serverLog += d.toString()));
    url = await waitForPort();
  }, 180_000);

  afterAll(async () => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('init --example writes the seed tree and it validates clean', async () => {
    const v = await ofserve(['validate', '--model-store', 'model_repository', '--json'], { cwd: dir });
    expect(v.exitCode, v.stdout + v.stderr).toBe(0);
    const report = JSON.parse(v.stdout) as { ok: boolean };
    expect(report.ok).toBe(true);
  });

  it('classifies a generated red image as red through the CLI', async () => {
    const red = await solidImage(join(dir, 'red.png'), { r: 230, g: 20, b: 25 }, 300, 200);
    const r = await ofserve(['classify', red, '--top', '3', '-m', 'color_classifier', '-u', url], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const firstRow = r.stdout.split('\n').find((l) => /^\s*1\s/.test(l));
    expect(firstRow).toMatch(/\bred\b/);
  });

  it('classifies cat.jpg with the OneFlow ResNet-50: 3 ImageNet labels, best first', async () => {
    const r = await ofserve(['classify', catJpg, '--top', '3', '-m', 'resnet50_oneflow', '-u', url, '--json'], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { images: Array<{ predictions: Array<{ rank: number; score: number; index: number; label: string }> }> };
    const labels = readFileSync(imagenetLabels, 'utf8').split('\n');
    const preds = result.images[0].predictions;
    expect(preds).toHaveLength(3);
    expect(preds.map((p) => p.rank)).toEqual([1, 2, 3]);
    expect(preds[0].score).toBeGreaterThanOrEqual(preds[1].score);
    expect(preds[1].score).toBeGreaterThanOrEqual(preds[2].score);
    for (const p of preds) expect(p.label).toBe(labels[p.index]);
  });

  it('answers a health check and exposes Triton metrics after the requests', async () => {
    const ready = await fetch(`http://${url}/v2/health/ready`);
    expect(ready.status).toBe(200);
    const m = /Started Metrics Service at [^:]+:(\d+)/.exec(serverLog);
    const metrics = await (await fetch(`http://127.0.0.1:${m?.[1]}/metrics`)).text();
    expect(metrics).toMatch(/nv_inference_request_success\{model="resnet50_oneflow",version="1"\} [1-9]/);
  });

  it('classify -i grpc gives the same answer over gRPC, and perf measures it', async () => {
    const grpcPort = /Started GRPCInferenceService at [^:]+:(\d+)/.exec(serverLog)?.[1];
    const red = await solidImage(join(dir, 'red-grpc.png'), { r: 230, g: 20, b: 25 }, 64, 64);
    const r = await ofserve(['classify', red, '-m', 'color_classifier', '-i', 'grpc', '-u', `127.0.0.1:${grpcPort}`, '--json'], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { images: Array<{ predictions: Array<{ label: string }> }> }).images[0].predictions[0].label).toBe('red');

    const p = await ofserve(['perf', '-m', 'color_classifier', '-u', url, '--request-count', '5', '--json'], { cwd: dir });
    expect(p.exitCode, p.stderr).toBe(0);
    const perf = JSON.parse(p.stdout) as { levels: Array<{ concurrency: number; requestCount: number; throughput: number }> };
    expect(perf.levels[0]).toMatchObject({ concurrency: 1, requestCount: 5 });
    expect(perf.levels[0].throughput).toBeGreaterThan(0);
  });

  it('a missing image is a clear error with exit code 1 and no stack trace', async () => {
    const r = await ofserve(['classify', join(dir, 'nope.jpg'), '-m', 'color_classifier', '-u', url], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('nope.jpg');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('serve on a missing store exits 1 naming the folder', async () => {
    const r = await ofserve(['serve', '--model-store', 'nowhere', '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('nowhere');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('serve refuses --http-max-body 0 and -1 before loading any model: exit 2 naming the flag', async () => {
    for (const value of ['0', '-1']) {
      const r = await ofserve(['serve', '--model-store', 'model_repository', '--http-port', '0', '--http-max-body', value], { cwd: dir });
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toContain(`--http-max-body must be an integer from 1 to 4294967296 (bytes), got '${value}'`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr).not.toMatch(/Started|loaded|READY/);
    }
  });

  it('a second Ctrl-C ends the server at once instead of waiting for the drain', async () => {
    let log = '';
    const other = execa('node', [bin, 'serve', '--model-store', 'model_repository', '--http-port', '0', '--allow-grpc', 'false', '--allow-metrics', 'false', '--http-address', '127.0.0.1'], { cwd: dir, reject: false });
    other.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    const deadline = Date.now() + 60_000;
    while (!/Started HTTPService at [^:]+:\d+/.test(log) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const port = /Started HTTPService at [^:]+:(\d+)/.exec(log)?.[1];
    // a batch of 8 ResNet-50 images keeps the server busy for several hundred ms
    const header = JSON.stringify({ inputs: [{ name: 'INPUT_0', shape: [8, 3, 224, 224], datatype: 'FP32', parameters: { binary_data_size: 8 * 602112 } }] });
    const inflight = fetch(`http://127.0.0.1:${port}/v2/models/resnet50_oneflow/infer`, {
      method: 'POST',
      headers: { 'Inference-Header-Content-Length': String(header.length) },
      body: Buffer.concat([Buffer.from(header), Buffer.alloc(8 * 602112)]),
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 250));
    other.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 30));
    other.kill('SIGINT');
    const done = await other;
    await inflight;
    expect(done.signal, `exit ${String(done.exitCode)}\n${log}`).toBe('SIGINT');
    expect(log).not.toContain('terminate called');
    expect(log).toContain('again: exiting without waiting');
  });

  it('SIGTERM stops the server gracefully (exit code 0)', async () => {
    server?.kill('SIGTERM');
    const done = await server;
    expect(done?.exitCode).toBe(0);
    expect(serverLog).toContain('server stopped');
  });
});
