#!/usr/bin/env node
// Serving overhead: ResNet-50 (the example's OneFlow model, seeded weights) on this machine's CPU,
//   1. onnxruntime-node called directly, no server, in several configurations (the ceiling);
//   2. the floor: a bare node:http / grpc-js server holding each request for the direct p50 in a
//      worker (bench/transport-floor.mjs), i.e. what this machine charges before ofserve does anything;
//   3. the same model behind `ofserve serve`, started as its own process (bin/ofserve.js), driven by
//      `ofserve perf` from this process (closed-loop clients, binary tensors over HTTP, and gRPC).
// Both halves run in one invocation, so the ratios compare like with like on the same machine and load.
// Usage: npm run build && node bench/serve-throughput.mjs [--seconds 3] [--trials 3] [--out FILE]
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { init } from '../dist/commands/init.js';
import { convert } from '../dist/commands/convert.js';
import { perf } from '../dist/commands/perf.js';
import { cpuSummary } from './cpu.mjs';
import { arg, root, startServer } from './common.mjs';
import { floor } from './transport-floor.mjs';

const seconds = Number(arg('--seconds', '3'));
const trials = Number(arg('--trials', '3'));
const out = path.resolve(arg('--out', path.join(root, 'bench/results/serve-throughput.json')));
const cores = os.availableParallelism();
const cpu = cpuSummary();

console.log(`CPU: ${cpu.model}, ${cores} cores, ${cpu.extensions.join(' ') || 'no AVX2/AVX-512/AMX'}; Node ${process.version}`);
const results = { machine: { ...cpu, node: process.version }, date: new Date().toISOString(), seconds, trials, direct: [], served: [] };

/**
 * One onnxruntime session per worker thread, each running back to back for `ms` inside its own thread
 * (no message per inference): the most a JS program can get out of onnxruntime-node on this machine.
 */
const directWorker = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ort);
(async () => {
  const opts = { intraOpNumThreads: workerData.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  if (!workerData.spinning) opts.extra = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };
  const s = await ort.InferenceSession.create(workerData.model, opts);
  const batch = workerData.batch;
  const input = new ort.Tensor('float32', new Float32Array(batch * 3 * 224 * 224).map((_, i) => (i % 255) / 255), [batch, 3, 224, 224]);
  for (let i = 0; i < 3; i++) await s.run({ [s.inputNames[0]]: input });
  parentPort.postMessage('warm');
  await new Promise((r) => parentPort.once('message', r));
  const latencies = [];
  const t0 = performance.now();
  while (performance.now() - t0 < workerData.ms) {
    const t = performance.now();
    await s.run({ [s.inputNames[0]]: input });
    latencies.push(performance.now() - t);
  }
  parentPort.postMessage({ latencies, elapsed: performance.now() - t0 });
  await s.release();
})();
`;

const ortEntry = createRequire(import.meta.url).resolve('onnxruntime-node');

async function direct(model, { sessions, threads, spinning, batch }) {
  const ms = seconds * trials * 1000;
  const workers = Array.from({ length: sessions }, () => new Worker(directWorker, { eval: true, workerData: { ort: ortEntry, model, threads, spinning, batch, ms } }));
  const exited = workers.map((w) => once(w, 'exit'));
  await Promise.all(workers.map((w) => once(w, 'message')));
  const done = workers.map((w) => once(w, 'message').then(([m]) => m));
  for (const w of workers) w.postMessage('go');
  const reports = await Promise.all(done);
  await Promise.all(exited);
  const latencies = reports.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const elapsed = Math.max(...reports.map((r) => r.elapsed));
  return { images_per_s: round((latencies.length * batch * 1000) / elapsed), p50_ms: round(latencies[Math.floor(latencies.length / 2)]) };
}

const round = (x) => Math.round(x * 100) / 100;


const work = await mkdtemp(path.join(os.tmpdir(), 'ofserve-bench-'));
try {
  await init({ cwd: work, repository: 'example', example: true });
  const onnxPath = path.join(work, 'resnet50.onnx');
  await convert({ cwd: work, modelDir: 'example/resnet50_oneflow/1/model', to: 'onnx', output: onnxPath });

  // 1. Direct. Spinning is onnxruntime's default; the server turns it off (see docs/architecture.md).
  const directSetups = [
    { sessions: 1, threads: cores, spinning: true, batch: 1 },
    { sessions: 1, threads: cores, spinning: false, batch: 1 },
    { sessions: cores, threads: 1, spinning: true, batch: 1 },
    // What the served dynamic-batching setups are up against: batches of 4 run more images per second.
    { sessions: cores, threads: 1, spinning: true, batch: 4 },
  ];
  // Measured again after the served setups: this machine's speed drifts by up to 15 % over minutes, and
  // a ratio of served to direct means something only if the direct side was measured around the served.
  const measureDirect = async (pass) => {
    for (const setup of directSetups) {
      const r = await direct(onnxPath, setup);
      results.direct.push({ ...setup, pass, ...r });
      console.log(`direct  ${setup.sessions} session(s) × ${setup.threads} thread(s), spinning ${setup.spinning ? 'on ' : 'off'}, batch ${setup.batch} (${pass}): ${r.images_per_s} img/s, p50 ${r.p50_ms} ms`);
    }
  };
  await measureDirect('before');

  // 2. The floor: a bare server in its own process, holding each request for the direct p50 in a worker
  // (bench/transport-floor.mjs). What it adds is what this machine charges for moving the same bytes
  // between two processes and waking the same threads, before any serving software does its part.
  const holdMs = Math.min(...results.direct.filter((d) => d.sessions === 1 && d.batch === 1).map((d) => d.p50_ms));
  const bodyBytes = 3 * 224 * 224 * 4 + 200; // the image tensor plus a JSON header of about perf's size
  results.floor = [];
  for (const protocol of ['http', 'grpc']) {
    const r = await floor({ protocol, holdMs, bodyBytes, seconds: seconds * trials });
    results.floor.push({ protocol, hold_ms: holdMs, p50_ms: round(r.p50_ms), floor_ms: round(r.floor_ms), requests: r.requests });
    console.log(`floor   bare ${protocol === 'http' ? 'node:http' : 'grpc-js'} server, ${holdMs} ms hold in a worker, c=1: p50 ${round(r.p50_ms)} ms = hold + ${round(r.floor_ms)} ms`);
  }

  // 3. Served.
  const base = await readFile(path.join(work, 'example/resnet50_oneflow/config.pbtxt'), 'utf8');
  const setups = [
    { name: `1 instance (${cores} threads), HTTP`, groups: 'count: 1', batching: '', concurrency: '1:4:1', protocol: 'http' },
    { name: `1 instance (${cores} threads), gRPC`, groups: 'count: 1', batching: '', concurrency: '1:4:1', protocol: 'grpc' },
    { name: `${cores} instances (1 thread each), HTTP`, groups: `count: ${cores}`, batching: '', concurrency: `${cores}:${2 * cores}:${cores}`, protocol: 'http' },
    { name: '1 instance + dynamic batching (2 ms), HTTP', groups: 'count: 1', batching: 'dynamic_batching { max_queue_delay_microseconds: 2000 }', concurrency: '4:8:4', protocol: 'http' },
    { name: `${cores} instances + dynamic batching (2 ms), HTTP`, groups: `count: ${cores}`, batching: 'dynamic_batching { max_queue_delay_microseconds: 2000 }', concurrency: `${4 * cores}:${8 * cores}:${4 * cores}`, protocol: 'http' },
  ];
  for (const setup of setups) {
    const store = path.join(work, 'store');
    await rm(store, { recursive: true, force: true });
    await cp(path.join(work, 'example/resnet50_oneflow'), path.join(store, 'resnet50_oneflow'), { recursive: true });
    await writeFile(path.join(store, 'resnet50_oneflow/config.pbtxt'), base.replace(/count: 1/, setup.groups) + `${setup.batching}\n`);
    const server = await startServer(store);
    try {
      const url = setup.protocol === 'grpc' ? server.grpc : server.http;
      // A short unmeasured run first: the first inferences of a session are slower (allocations).
      await perf({ model: 'resnet50_oneflow', url, protocol: setup.protocol, concurrencyRange: '1', requestCount: 5 });
      const r = await perf({ model: 'resnet50_oneflow', url, protocol: setup.protocol, concurrencyRange: setup.concurrency, measurementIntervalMs: seconds * 1000, maxTrials: trials });
      for (const l of r.levels) {
        // The server's own view: compute is dispatch to result (worker hand-off included), request is
        // arrival of the whole body to the answer; the client's latency minus these is transport.
        const server = l.server ? { server_request_ms: round(l.server.avgRequestUs / 1000), server_compute_ms: round(l.server.avgComputeInferUs / 1000) } : {};
        const row = { setup: setup.name, protocol: setup.protocol, concurrency: l.concurrency, images_per_s: round(l.throughput), p50_ms: round(l.latencyUs.p50 / 1000), p99_ms: round(l.latencyUs.p99 / 1000), avg_ms: round(l.latencyUs.avg / 1000), ...server };
        results.served.push(row);
        console.log(`served  ${setup.name.padEnd(44)} c=${l.concurrency}: ${row.images_per_s} img/s, p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms (avg ${row.avg_ms}, server ${row.server_request_ms ?? '?'}, compute ${row.server_compute_ms ?? '?'})`);
      }
    } finally {
      await server.stop();
    }
  }

  await measureDirect('after');

  // The targets, as ratios from this one run; each direct configuration counts with the mean of
  // its two passes, which bracket the served setups in time.
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const directMeans = directSetups.map((setup) => {
    const rows = results.direct.filter((d) => d.sessions === setup.sessions && d.threads === setup.threads && d.spinning === setup.spinning && d.batch === setup.batch);
    const [before, after] = rows.map((d) => d.images_per_s);
    return { ...setup, images_per_s: round(mean(rows.map((d) => d.images_per_s))), p50_ms: round(mean(rows.map((d) => d.p50_ms))), drift: round(after / before - 1) };
  });
  results.direct_means = directMeans;
  const bestDirect = Math.max(...directMeans.map((d) => d.images_per_s));
  const bestDirectP50 = Math.min(...directMeans.filter((d) => d.sessions === 1 && d.batch === 1).map((d) => d.p50_ms));
  const drift = Math.max(...directMeans.map((d) => Math.abs(d.drift)));
  const bestServed = Math.max(...results.served.filter((s) => s.concurrency >= 2).map((s) => s.images_per_s));
  const c1 = (protocol) => Math.min(...results.served.filter((s) => s.concurrency === 1 && s.protocol === protocol).map((s) => s.p50_ms));
  results.summary = {
    best_direct_images_per_s: bestDirect,
    best_served_images_per_s_at_c_ge_2: bestServed,
    served_over_direct: round(bestServed / bestDirect),
    direct_p50_ms: bestDirectP50,
    http_c1_p50_minus_direct_ms: round(c1('http') - bestDirectP50),
    grpc_c1_p50_minus_direct_ms: round(c1('grpc') - bestDirectP50),
    http_floor_ms: results.floor.find((f) => f.protocol === 'http').floor_ms,
    grpc_floor_ms: results.floor.find((f) => f.protocol === 'grpc').floor_ms,
    direct_drift_between_passes: drift,
  };
  console.log(`served/direct at c≥2: ${bestServed} / ${bestDirect} = ${results.summary.served_over_direct} (target ≥ 0.95)`);
  console.log(`c=1 p50 over direct p50 (${bestDirectP50} ms): HTTP ${results.summary.http_c1_p50_minus_direct_ms} ms, gRPC ${results.summary.grpc_c1_p50_minus_direct_ms} ms (target ≤ 1 ms)`);
  console.log(`of which a bare server in Node adds (the floor): HTTP ${results.summary.http_floor_ms} ms, gRPC ${results.summary.grpc_floor_ms} ms`);
  console.log(`direct img/s moved by up to ${Math.round(drift * 100)} % between the passes before and after the served setups${drift > 0.05 ? ': the machine was not steady, run it again before trusting the ratios' : ''}`);
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
