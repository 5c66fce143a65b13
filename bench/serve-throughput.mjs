#!/usr/bin/env node
// Serving overhead: ResNet-50 (the example's OneFlow model, seeded weights) on this machine's CPU,
//   1. onnxruntime-node called directly, no server, in several configurations (the ceiling);
//   2. the floor: a bare node:http / grpc-js server holding each request for the direct p50 in a
//      worker (bench/transport-floor.mjs), i.e. what this machine charges before ofserve does anything;
//   3. the same model behind `ofserve serve`, started as its own process (bin/ofserve.js), driven by
//      `ofserve perf` from this process (closed-loop clients, binary tensors over HTTP, and gRPC), and
//      the example's colour classifier (the same input, next to no compute) beside the floor with no hold;
//   4. the two targets, from direct and served windows run in alternation (this machine's speed
//      drifts by 15–40 % over minutes): the medians of the per-pair ratio and differences.
// Both halves run in one invocation, so the ratios compare like with like on the same machine and load.
// Usage: npm run build && node bench/serve-throughput.mjs [--seconds 3] [--trials 3] [--pairs 5] [--out FILE]
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

async function direct(model, { sessions, threads, spinning, batch }, ms = seconds * trials * 1000) {
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
  // With no hold too: the same round trip on a warm machine, to set beside ofserve's with no inference.
  for (const hold of [holdMs, 0]) {
    for (const protocol of ['http', 'grpc']) {
      const r = await floor({ protocol, holdMs: hold, bodyBytes, seconds: hold ? seconds * trials : seconds });
      results.floor.push({ protocol, hold_ms: hold, p50_ms: round(r.p50_ms), floor_ms: round(r.floor_ms), requests: r.requests });
      console.log(`floor   bare ${protocol === 'http' ? 'node:http' : 'grpc-js'} server, ${hold} ms hold in a worker, c=1: p50 ${round(r.p50_ms)} ms = hold + ${round(r.floor_ms)} ms`);
    }
  }

  // 3. Served.
  const base = await readFile(path.join(work, 'example/resnet50_oneflow/config.pbtxt'), 'utf8');
  const SPINNING = 'parameters { key: "session.intra_op.allow_spinning" value: { string_value: "1" } }';
  const setups = [
    { name: `1 instance (${cores} threads), HTTP`, groups: 'count: 1', batching: '', concurrency: '1:4:1', protocol: 'http' },
    { name: `1 instance (${cores} threads), gRPC`, groups: 'count: 1', batching: '', concurrency: '1:4:1', protocol: 'grpc' },
    // The same with parameters["session.intra_op.allow_spinning"] = "1": spinning during runs only.
    { name: `1 instance (${cores} threads, spinning in runs), HTTP`, groups: 'count: 1', batching: SPINNING, concurrency: '1:4:1', protocol: 'http' },
    { name: `1 instance (${cores} threads, spinning in runs), gRPC`, groups: 'count: 1', batching: SPINNING, concurrency: '1:4:1', protocol: 'grpc' },
    { name: `${cores} instances (1 thread each), HTTP`, groups: `count: ${cores}`, batching: '', concurrency: `${cores}:${2 * cores}:${cores}`, protocol: 'http' },
    { name: '1 instance + dynamic batching (2 ms), HTTP', groups: 'count: 1', batching: 'dynamic_batching { max_queue_delay_microseconds: 2000 }', concurrency: '4:8:4', protocol: 'http' },
    { name: `${cores} instances + dynamic batching (2 ms), HTTP`, groups: `count: ${cores}`, batching: 'dynamic_batching { max_queue_delay_microseconds: 2000 }', concurrency: `${4 * cores}:${8 * cores}:${4 * cores}`, protocol: 'http' },
  ];
  const serverFor = async (setup, name = 'store') => {
    const store = path.join(work, name);
    await rm(store, { recursive: true, force: true });
    await cp(path.join(work, 'example/resnet50_oneflow'), path.join(store, 'resnet50_oneflow'), { recursive: true });
    await writeFile(path.join(store, 'resnet50_oneflow/config.pbtxt'), base.replace(/count: 1/, setup.groups) + `${setup.batching}\n`);
    return startServer(store);
  };
  for (const setup of setups) {
    const server = await serverFor(setup);
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

  // 4. ofserve's own cost per request with (almost) no inference: the example's colour classifier takes the
  // same 600 KB image tensor and computes a mean, so this is the serving path alone, next to the bare
  // servers' round trip with no hold.
  results.no_inference = [];
  {
    const store = path.join(work, 'store');
    await rm(store, { recursive: true, force: true });
    await cp(path.join(work, 'example/color_classifier'), path.join(store, 'color_classifier'), { recursive: true });
    const server = await startServer(store);
    try {
      for (const protocol of ['http', 'grpc']) {
        const url = protocol === 'grpc' ? server.grpc : server.http;
        await perf({ model: 'color_classifier', url, protocol, concurrencyRange: '1', requestCount: 50 });
        const r = await perf({ model: 'color_classifier', url, protocol, concurrencyRange: '1', measurementIntervalMs: seconds * 1000, maxTrials: trials });
        const [l] = r.levels;
        const bare = results.floor.find((f) => f.protocol === protocol && f.hold_ms === 0).p50_ms;
        const row = { protocol, p50_ms: round(l.latencyUs.p50 / 1000), server_request_ms: round(l.server.avgRequestUs / 1000), server_compute_ms: round(l.server.avgComputeInferUs / 1000), bare_p50_ms: bare };
        results.no_inference.push(row);
        console.log(`served  color_classifier (no inference to speak of), ${protocol === 'http' ? 'HTTP' : 'gRPC'} c=1: p50 ${row.p50_ms} ms (server ${row.server_request_ms}, compute ${row.server_compute_ms}); bare server ${bare} ms`);
      }
    } finally {
      await server.stop();
    }
  }

  await measureDirect('after');

  // 5. Each direct configuration counts with the mean of its two passes, which bracket the served setups.
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const directMeans = directSetups.map((setup) => {
    const rows = results.direct.filter((d) => d.sessions === setup.sessions && d.threads === setup.threads && d.spinning === setup.spinning && d.batch === setup.batch);
    const [before, after] = rows.map((d) => d.images_per_s);
    return { ...setup, images_per_s: round(mean(rows.map((d) => d.images_per_s))), p50_ms: round(mean(rows.map((d) => d.p50_ms))), drift: round(after / before - 1) };
  });
  results.direct_means = directMeans;
  const drift = Math.max(...directMeans.map((d) => Math.abs(d.drift)));
  console.log(`direct img/s moved by up to ${Math.round(drift * 100)} % between the passes before and after the served setups`);

  // 6. The targets, measured in pairs. With drift like the above, a ratio of figures taken
  // minutes apart says more about the machine than about the server, so the best direct configuration
  // and the best served setup of the tables (and, for concurrency 1, the one-instance server over HTTP
  // and gRPC) run in alternating windows, each served window right after a direct one; the targets are
  // the medians of the per-pair ratios and differences.
  const bestDirectSetup = directMeans.reduce((a, b) => (b.images_per_s > a.images_per_s ? b : a));
  const latencySetup = directSetups.find((d) => d.sessions === 1 && d.spinning && d.batch === 1);
  const bestServedRow = results.served.filter((r) => r.concurrency >= 2).reduce((a, b) => (b.images_per_s > a.images_per_s ? b : a));
  const bestServedSetup = setups.find((x) => x.name === bestServedRow.setup);
  const pairRounds = Number(arg('--pairs', '5'));
  const oneInstance = await serverFor(setups[0], 'store-c1');
  const spinningInstance = await serverFor(setups[2], 'store-c1-spinning');
  const best = await serverFor(bestServedSetup, 'store-best');
  results.pairs = [];
  try {
    // A few unmeasured requests first: the server sat idle through the direct window before it, and its
    // first answers after a pause are slower, as onnxruntime's are (the direct loop has its own warm-up).
    const measure = async (url, protocol, concurrency, requestCount) => {
      await perf({ model: 'resnet50_oneflow', url, protocol, concurrencyRange: String(concurrency), requestCount: 3 * concurrency });
      const r = await perf({ model: 'resnet50_oneflow', url, protocol, concurrencyRange: String(concurrency), requestCount });
      return r.levels[0];
    };
    for (let i = 0; i < pairRounds; i++) {
      const d1 = await direct(onnxPath, latencySetup, seconds * 1000);
      const requests = Math.max(30, Math.round(seconds * d1.images_per_s));
      const h = await measure(oneInstance.http, 'http', 1, requests);
      const g = await measure(oneInstance.grpc, 'grpc', 1, requests);
      const hs = await measure(spinningInstance.http, 'http', 1, requests);
      const gs = await measure(spinningInstance.grpc, 'grpc', 1, requests);
      const d2 = await direct(onnxPath, bestDirectSetup, seconds * 1000);
      const t = await measure(best.http, bestServedRow.protocol, bestServedRow.concurrency, Math.max(30, Math.round(seconds * d2.images_per_s)));
      const pair = {
        direct_p50_ms: d1.p50_ms,
        http_p50_ms: round(h.latencyUs.p50 / 1000),
        grpc_p50_ms: round(g.latencyUs.p50 / 1000),
        http_spinning_p50_ms: round(hs.latencyUs.p50 / 1000),
        grpc_spinning_p50_ms: round(gs.latencyUs.p50 / 1000),
        direct_images_per_s: d2.images_per_s,
        served_images_per_s: round(t.throughput),
      };
      results.pairs.push(pair);
      console.log(`pair ${i + 1}: direct p50 ${pair.direct_p50_ms} ms, HTTP ${pair.http_p50_ms}, gRPC ${pair.grpc_p50_ms}, spinning in runs: HTTP ${pair.http_spinning_p50_ms}, gRPC ${pair.grpc_spinning_p50_ms} · direct ${pair.direct_images_per_s} img/s, served ${pair.served_images_per_s}`);
    }
  } finally {
    await oneInstance.stop();
    await spinningInstance.stop();
    await best.stop();
  }
  const pairs = results.pairs;
  results.summary = {
    best_direct_setup: bestDirectSetup,
    best_served_setup: `${bestServedRow.setup}, c=${bestServedRow.concurrency}`,
    served_over_direct: round(median(pairs.map((p) => p.served_images_per_s / p.direct_images_per_s))),
    http_c1_p50_minus_direct_ms: round(median(pairs.map((p) => p.http_p50_ms - p.direct_p50_ms))),
    grpc_c1_p50_minus_direct_ms: round(median(pairs.map((p) => p.grpc_p50_ms - p.direct_p50_ms))),
    http_c1_spinning_p50_minus_direct_ms: round(median(pairs.map((p) => p.http_spinning_p50_ms - p.direct_p50_ms))),
    grpc_c1_spinning_p50_minus_direct_ms: round(median(pairs.map((p) => p.grpc_spinning_p50_ms - p.direct_p50_ms))),
    http_floor_ms: results.floor.find((f) => f.protocol === 'http' && f.hold_ms === holdMs).floor_ms,
    grpc_floor_ms: results.floor.find((f) => f.protocol === 'grpc' && f.hold_ms === holdMs).floor_ms,
    direct_drift_between_passes: drift,
  };
  const d = bestDirectSetup;
  console.log(`served/direct at c≥2 (${results.summary.best_served_setup} against ${d.sessions} × ${d.threads} thread(s), batch ${d.batch}; median of ${pairRounds} pairs): ${results.summary.served_over_direct} (target ≥ 0.95)`);
  console.log(`c=1 p50 over direct p50 (median of ${pairRounds} pairs): HTTP +${results.summary.http_c1_p50_minus_direct_ms} ms, gRPC +${results.summary.grpc_c1_p50_minus_direct_ms} ms (target ≤ 1 ms); with spinning in runs: HTTP +${results.summary.http_c1_spinning_p50_minus_direct_ms} ms, gRPC +${results.summary.grpc_c1_spinning_p50_minus_direct_ms} ms`);
  console.log(`the floor (a bare server in Node, the same bytes and hold): HTTP +${results.summary.http_floor_ms} ms, gRPC +${results.summary.grpc_floor_ms} ms`);
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
