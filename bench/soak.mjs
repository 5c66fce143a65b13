#!/usr/bin/env node
// Soak: mixed HTTP + gRPC load against `ofserve serve` (bin/ofserve.js, a child process) on the example
// repository, loopback only, bounded in time (--seconds) and in requests (--max-requests).
//   - HTTP clients: closed loop, binary tensor extension, batch-1 image to color_classifier;
//   - gRPC clients: closed loop, ModelInfer with raw_input_contents, same model and input, each on
//     its own channel (its own HTTP/2 connection), as separate tritonclient processes would be;
//   - a health checker: GET /v2/health/ready every 50 ms, its latency under that load;
//   - at the end SIGTERM, and the exit code of the graceful stop.
// Prints requests sent, answered, failed, lost (no answer within --timeout-ms), RSS of the server at
// start and end (/proc/<pid>/status), health p99, and gRPC vs HTTP latency.
// Usage: npm run build && node bench/soak.mjs [--seconds 180] [--http 4] [--grpc 4] [--max-requests 2000000]
//        [--model color_classifier] [--out bench/results/soak.json]
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { encodeMessage, decodeMessage, rpcTypes, INFERENCE_SERVICE } from '../dist/protocol/grpc-schema.js';
import { arg, root } from './common.mjs';

const bin = path.join(root, 'bin', 'ofserve.js');
const seconds = Number(arg('--seconds', '180'));
const httpClients = Number(arg('--http', '4'));
const grpcClients = Number(arg('--grpc', '4'));
const maxRequests = Number(arg('--max-requests', '2000000'));
const timeoutMs = Number(arg('--timeout-ms', '30000'));
const model = arg('--model', 'color_classifier');
const out = arg('--out', undefined);
if (!(seconds > 0 && seconds <= 3600)) throw new Error('--seconds must be in (0, 3600]');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const percentile = (xs, p) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(2));
};
async function procStatus(pid) {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(text)?.[1] ?? 0);
  return { rss_mb: Math.round(kb('VmRSS') / 1024), peak_rss_mb: Math.round(kb('VmHWM') / 1024) };
}

const work = await mkdtemp(path.join(os.tmpdir(), 'ofserve-soak-'));
let server;
try {
  await promisify(execFile)('node', [bin, 'init', '--example', '-o', 'model_repository'], { cwd: work });
  server = spawn('node', [bin, 'serve', '--model-store', 'model_repository', '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', '--http-address', '127.0.0.1'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  server.stdout.on('data', (d) => (log += d));
  server.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })));
  const startDeadline = Date.now() + 300_000;
  while (!/\| color_classifier/.test(log)) {
    if (Date.now() > startDeadline || server.exitCode !== null) throw new Error(`server did not start:\n${log}`);
    await sleep(100);
  }
  const httpPort = /Started HTTPService at [^:]+:(\d+)/.exec(log)[1];
  const grpcPort = /Started GRPCInferenceService at [^:]+:(\d+)/.exec(log)[1];
  const httpUrl = `http://127.0.0.1:${httpPort}`;

  const size = 3 * 224 * 224 * 4;
  const pixels = new Float32Array(3 * 224 * 224).map((_, i) => (i % 251) / 251);
  const header = JSON.stringify({ inputs: [{ name: 'INPUT_0', shape: [1, 3, 224, 224], datatype: 'FP32', parameters: { binary_data_size: size } }], outputs: [{ name: 'OUTPUT_0', parameters: { classification: 1 } }] });
  const httpBody = Buffer.concat([Buffer.from(header), Buffer.from(pixels.buffer)]);
  const infer = rpcTypes(INFERENCE_SERVICE, 'ModelInfer');
  const grpcBody = encodeMessage(infer.request, {
    model_name: model,
    inputs: [{ name: 'INPUT_0', datatype: 'FP32', shape: [1, 3, 224, 224] }],
    outputs: [{ name: 'OUTPUT_0', parameters: { classification: { int64_param: 1 } } }],
    raw_input_contents: [new Uint8Array(pixels.buffer)],
  });

  const start = await procStatus(server.pid);
  const stats = { http: { sent: 0, ok: 0, failed: 0, lost: 0, ms: [] }, grpc: { sent: 0, ok: 0, failed: 0, lost: 0, ms: [] }, health: { sent: 0, ok: 0, failed: 0, lost: 0, ms: [] } };
  const failures = new Map();
  const fail = (kind, why) => failures.set(`${kind}: ${why}`, (failures.get(`${kind}: ${why}`) ?? 0) + 1);
  const t0 = performance.now();
  const endAt = t0 + seconds * 1000;
  let total = 0;
  const more = () => performance.now() < endAt && total < maxRequests;

  async function httpLoop() {
    while (more()) {
      total++;
      stats.http.sent++;
      const t = performance.now();
      try {
        const res = await fetch(`${httpUrl}/v2/models/${model}/infer`, {
          method: 'POST',
          headers: { 'Inference-Header-Content-Length': String(header.length) },
          body: httpBody,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const body = await res.text();
        if (res.ok) {
          stats.http.ok++;
          stats.http.ms.push(performance.now() - t);
        } else {
          stats.http.failed++;
          fail('http', `${res.status} ${body.slice(0, 80)}`);
        }
      } catch (e) {
        if (e.name === 'TimeoutError') stats.http.lost++;
        else stats.http.failed++;
        fail('http', e.name === 'TimeoutError' ? 'no answer in time' : String(e.cause?.code ?? e.message));
      }
    }
  }

  async function grpcLoop() {
    // Distinct options per client: grpc-js would otherwise share one subchannel (one connection) between them.
    const client = new grpc.Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      'grpc.use_local_subchannel_pool': 1,
    });
    const identity = (b) => b;
    try {
      while (more()) {
        total++;
        stats.grpc.sent++;
        const t = performance.now();
        const outcome = await new Promise((resolve) =>
          client.makeUnaryRequest(`/${INFERENCE_SERVICE}/ModelInfer`, identity, identity, grpcBody, { deadline: Date.now() + timeoutMs }, (error, response) =>
            resolve(error ? { error } : { response }),
          ),
        );
        if (outcome.response) {
          decodeMessage(infer.response, outcome.response);
          stats.grpc.ok++;
          stats.grpc.ms.push(performance.now() - t);
        } else if (outcome.error.code === grpc.status.DEADLINE_EXCEEDED) {
          stats.grpc.lost++;
          fail('grpc', 'no answer in time');
        } else {
          stats.grpc.failed++;
          fail('grpc', `${outcome.error.code} ${outcome.error.details}`);
        }
      }
    } finally {
      client.close();
    }
  }

  async function healthLoop() {
    while (more()) {
      stats.health.sent++;
      const t = performance.now();
      try {
        const res = await fetch(`${httpUrl}/v2/health/ready`, { signal: AbortSignal.timeout(timeoutMs) });
        await res.arrayBuffer();
        if (res.ok) stats.health.ok++;
        else stats.health.failed++;
        stats.health.ms.push(performance.now() - t);
      } catch (e) {
        if (e.name === 'TimeoutError') stats.health.lost++;
        else stats.health.failed++;
      }
      await sleep(50);
    }
  }

  const progress = setInterval(() => {
    const s = Math.round((performance.now() - t0) / 1000);
    process.stderr.write(`  ${s}s: http ${stats.http.ok}, grpc ${stats.grpc.ok}, health ${stats.health.ok}\n`);
  }, 15_000);
  await Promise.all([
    ...Array.from({ length: httpClients }, httpLoop),
    ...Array.from({ length: grpcClients }, grpcLoop),
    healthLoop(),
  ]);
  clearInterval(progress);
  const elapsed = (performance.now() - t0) / 1000;
  const end = await procStatus(server.pid);

  const stopT = performance.now();
  server.kill('SIGTERM');
  const stop = await Promise.race([exited, sleep(60_000).then(() => ({ code: null, signal: 'still running after 60 s' }))]);
  const summary = (s) => ({ sent: s.sent, answered: s.ok, failed: s.failed, lost: s.lost, p50_ms: percentile(s.ms, 50), p99_ms: percentile(s.ms, 99) });
  const inferences = { sent: stats.http.sent + stats.grpc.sent, answered: stats.http.ok + stats.grpc.ok };
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, loadavg_1m_at_end: Number(os.loadavg()[0].toFixed(2)) },
    command: `node bench/soak.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    seconds: Number(elapsed.toFixed(1)),
    model,
    clients: { http: httpClients, grpc: grpcClients },
    requests: { ...inferences, failed: stats.http.failed + stats.grpc.failed, lost: stats.http.lost + stats.grpc.lost, per_s: Number((inferences.answered / elapsed).toFixed(1)) },
    http: summary(stats.http),
    grpc: summary(stats.grpc),
    health: summary(stats.health),
    server_rss_mb: { start: start.rss_mb, end: end.rss_mb, peak: end.peak_rss_mb },
    stop: { exit_code: stop.code, signal: stop.signal, ms: Math.round(performance.now() - stopT) },
    failures: Object.fromEntries(failures),
  };
  console.log(JSON.stringify(result, null, 2));
  if (out) {
    await writeFile(path.resolve(out), `${JSON.stringify(result, null, 2)}\n`);
    console.error(`wrote ${out}`);
  }
} finally {
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  await rm(work, { recursive: true, force: true });
}
