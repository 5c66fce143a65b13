import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../fixtures/models.js';
import { connect } from '../unit/server/grpc/grpc-client.js';

/**
 * Stopping `bin/ofserve serve` (built dist/) with signals: during model loading, with a stalled upload,
 * with an open gRPC stream and with requests in flight past --exit-timeout-secs. Exit code 0 for a
 * graceful stop, 1 when the exit timeout expired (as tritonserver), never a signal death.
 */

const bin = join(REPO_ROOT, 'bin', 'ofserve.js');

interface Server {
  readonly proc: ResultPromise;
  log(): string;
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpExecArray>;
}

function start(cwd: string, store: string, extra: string[] = []): Server {
  let log = '';
  const proc = execa(
    'node',
    [bin, 'serve', '--model-store', store, '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', '--http-address', '127.0.0.1', ...extra],
    // forceKillAfterDelay: execa would otherwise SIGKILL the server 5 s after our SIGTERM.
    { cwd, reject: false, env: { NO_COLOR: '1' }, forceKillAfterDelay: false },
  );
  proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  proc.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  return {
    proc,
    log: () => log,
    async waitFor(pattern, ms = 120_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const m = pattern.exec(log);
        if (m) return m;
        if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`no ${pattern} in:\n${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

async function stopped(server: Server): Promise<{ exitCode?: number; signal?: string; ms: number }> {
  const t0 = Date.now();
  const r = await server.proc;
  return { exitCode: r.exitCode, signal: r.signal, ms: Date.now() - t0 };
}

let dir: string;
const running: Server[] = [];

describe('stopping ofserve serve', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ofserve-stop-'));
    const init = await execa('node', [bin, 'init', '--example', '-o', 'full'], { cwd: dir, reject: false });
    expect(init.exitCode, init.stderr).toBe(0);
    // The colour classifier alone loads in a second: the store for the tests that need no slow load.
    const small = await execa('node', [bin, 'init', '--example', '-o', 'small'], { cwd: dir, reject: false });
    expect(small.exitCode, small.stderr).toBe(0);
    for (const m of ['resnet50_oneflow', 'resnet50_pipeline', 'resnet50_preprocess']) await rm(join(dir, 'small', m), { recursive: true, force: true });
  }, 120_000);

  afterAll(async () => {
    for (const s of running) if (s.proc.exitCode === null) s.proc.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('SIGTERM while models load stops the loading and exits 0 (not 143)', async () => {
    const server = start(dir, 'full', ['--exit-timeout-secs', '120']);
    running.push(server);
    // Models load in name order: once the colour classifier is in, ResNet-50 is loading.
    await server.waitFor(/successfully loaded 'color_classifier'/);
    server.proc.kill('SIGTERM');
    const r = await stopped(server);
    expect(r.signal, server.log()).toBeUndefined();
    expect(r.exitCode, server.log()).toBe(0);
    expect(server.log()).toContain('server stopped');
    expect(server.log()).not.toContain('Started HTTPService');
  }, 180_000);

  it('SIGTERM with a stalled upload ends within --exit-timeout-secs (exit 1, as tritonserver)', async () => {
    const server = start(dir, 'small', ['--exit-timeout-secs', '2']);
    running.push(server);
    const port = Number((await server.waitFor(/Started HTTPService at [^:]+:(\d+)/))[1]);
    await server.waitFor(/\| color_classifier/); // startup done
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    const socketClosed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('POST /v2/models/color_classifier/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"inputs":[');
    // Headers and a part of the body arrived: the request is in progress, so not an idle connection.
    await new Promise((r) => setTimeout(r, 1000));
    server.proc.kill('SIGTERM');
    const r = await stopped(server);
    expect(r.signal, server.log()).toBeUndefined();
    expect(r.exitCode, server.log()).toBe(1);
    expect(r.ms).toBeLessThan(20_000);
    expect(server.log()).toMatch(/exit timeout of 2 s expired/);
    await socketClosed;
  }, 120_000);

  it('SIGTERM with an open gRPC stream ends the stream (OK) and exits 0 well within the timeout', async () => {
    const server = start(dir, 'small', ['--exit-timeout-secs', '60']);
    running.push(server);
    const port = Number((await server.waitFor(/Started GRPCInferenceService at [^:]+:(\d+)/))[1]);
    const client = connect(port);
    const stream = client.stream();
    const got: Record<string, unknown>[] = [];
    const ended = new Promise<string>((resolve) => {
      stream.on('data', (m: Record<string, unknown>) => got.push(m));
      stream.on('error', (e: Error) => resolve(`error ${e.message}`));
      stream.on('end', () => resolve('end'));
    });
    const request = {
      model_name: 'color_classifier',
      id: 'one',
      inputs: [{ name: 'INPUT_0', datatype: 'FP32', shape: ['1', '3', '224', '224'] }],
      raw_input_contents: [new Uint8Array(3 * 224 * 224 * 4)],
    };
    stream.write(request);
    for (let i = 0; i < 600 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(got).toHaveLength(1);
    server.proc.kill('SIGTERM'); // the stream is open and idle: it must not hold the stop for 60 s
    const r = await stopped(server);
    expect(await ended).toBe('end');
    client.close();
    expect(r.signal, server.log()).toBeUndefined();
    expect(r.exitCode, server.log()).toBe(0);
    expect(r.ms).toBeLessThan(30_000);
    expect(server.log()).toContain('server stopped');
  }, 120_000);

  it('past --exit-timeout-secs every request in flight still gets an answer (200 or 503), then exit 1', async () => {
    // ResNet-50 takes a good part of a second per image here: after the first answer, the others queue.
    const server = start(dir, 'full', ['--exit-timeout-secs', '0', '--allow-grpc', 'false']);
    running.push(server);
    const port = Number((await server.waitFor(/Started HTTPService at [^:]+:(\d+)/))[1]);
    const size = 3 * 224 * 224 * 4;
    const header = JSON.stringify({ inputs: [{ name: 'INPUT_0', shape: [1, 3, 224, 224], datatype: 'FP32', parameters: { binary_data_size: size } }] });
    const body = Buffer.concat([Buffer.from(header), Buffer.alloc(size)]);
    let answered = 0;
    const requests = Array.from({ length: 12 }, () =>
      fetch(`http://127.0.0.1:${port}/v2/models/resnet50_oneflow/infer`, {
        method: 'POST',
        headers: { 'Inference-Header-Content-Length': String(header.length) },
        body,
      }).then(
        async (res) => {
          answered += 1;
          return { status: res.status, text: await res.text() };
        },
        (e: Error) => ({ status: 0, text: String(e.cause ?? e) }),
      ),
    );
    for (let i = 0; i < 6000 && answered === 0; i++) await new Promise((r) => setTimeout(r, 5));
    server.proc.kill('SIGTERM');
    const results = await Promise.all(requests);
    const r = await stopped(server);
    expect(r.signal, server.log()).toBeUndefined();
    expect(r.exitCode, server.log()).toBe(1);
    expect(server.log()).not.toContain('terminate called');
    for (const x of results) {
      expect([200, 503], x.text.slice(0, 200)).toContain(x.status);
      if (x.status === 503) expect(x.text).toContain('server is shutting down');
    }
    expect(results.filter((x) => x.status === 503).length).toBeGreaterThan(0);
  }, 180_000);
});
