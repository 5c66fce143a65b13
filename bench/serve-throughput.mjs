#!/usr/bin/env node
// Serving overhead: ResNet-50 (the example's OneFlow model, seeded weights) on this machine's CPU,
//   1. onnxruntime-node called directly, no server, in several configurations (the ceiling);
//   2. the floor: a bare node:http / grpc-js server that moves each request to a worker and back
//      (bench/transport-floor.mjs), i.e. what this machine charges before ofserve does anything;
//   3. the same model behind `ofserve serve`, started as its own process (bin/ofserve.js), driven by
//      `ofserve perf` from this process (closed-loop clients, binary tensors over HTTP, and gRPC), and
//      the example's colour classifier (the same input, next to no compute) beside the floor with no hold;
//   4. the two targets, from direct, served and floor windows run in alternation (this machine's
//      speed drifts by up to 60 % over minutes): the medians of the per-round ratio and differences.
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
import { SPINNING_PARAMETER, arg, mean, median, root, round, startServer, stopAll } from './common.mjs';
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
  return { images_per_s: round((latencies.length * batch * 1000) / elapsed), p50_ms: round(median(latencies)) };
}



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
  // Measured again after the served setups: this machine's speed drifts by up to 60 % over minutes, and
  // a ratio of served to direct means something only if the direct side was measured around the served.
  const measureDirect = async (pass) => {
    for (const setup of directSetups) {
      const r = await direct(onnxPath, setup);
      results.direct.push({ ...setup, pass, ...r });
      console.log(`direct  ${setup.sessions} session(s) × ${setup.threads} thread(s), spinning ${setup.spinning ? 'on ' : 'off'}, batch ${setup.batch} (${pass}): ${r.images_per_s} img/s, p50 ${r.p50_ms} ms`);
    }
  };
  await measureDirect('before');

  // 2. The floor with no hold (bench/transport-floor.mjs): a bare server's round trip for the same 600 KB
  // request on a warm machine, to set beside ofserve's with no inference (step 4). The floor with the
  // inference's hold is measured in the pairs (step 6), next to the direct window it takes its hold from.
  const bodyBytes = 3 * 224 * 224 * 4 + 200; // the image tensor plus a JSON header of about perf's size
  results.floor_no_hold = [];
  for (const protocol of ['http', 'grpc']) {
    const r = await floor({ protocol, holdMs: 0, bodyBytes, seconds });
    results.floor_no_hold.push({ protocol, p50_ms: round(r.p50_ms), requests: r.requests });
    console.log(`floor   bare ${protocol === 'http' ? 'node:http' : 'grpc-js'} server, no hold, c=1: p50 ${round(r.p50_ms)} ms`);
  }

  // 3. Served.
  const base = await readFile(path.join(work, 'example/resnet50_oneflow/config.pbtxt'), 'utf8');
  const setups = [
    { name: `1 instance (${cores} threads), HTTP`, groups: 'count: 1', batching: '', concurrency: '1:4:1', protocol: 'http' },
    { name: `1 instance (${cores} threads), gRPC`, groups: 'count: 1', batching: '', concurrency: '1:4:1', protocol: 'grpc' },
    // The same with parameters["session.intra_op.allow_spinning"] = "1": spinning during runs only.
    { name: `1 instance (${cores} threads, spinning in runs), HTTP`, groups: 'count: 1', batching: SPINNING_PARAMETER, concurrency: '1:4:1', protocol: 'http' },
    { name: `1 instance (${cores} threads, spinning in runs), gRPC`, groups: 'count: 1', batching: SPINNING_PARAMETER, concurrency: '1:4:1', protocol: 'grpc' },
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
        const bare = results.floor_no_hold.find((f) => f.protocol === protocol).p50_ms;
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
  const directMeans = directSetups.map((setup) => {
    const rows = results.direct.filter((d) => d.sessions === setup.sessions && d.threads === setup.threads && d.spinning === setup.spinning && d.batch === setup.batch);
    const [before, after] = rows.map((d) => d.images_per_s);
    return { ...setup, images_per_s: round(mean(rows.map((d) => d.images_per_s))), p50_ms: round(mean(rows.map((d) => d.p50_ms))), drift: round(after / before - 1) };
  });
  results.direct_means = directMeans;
  const drift = Math.max(...directMeans.map((d) => Math.abs(d.drift)));
  console.log(`direct img/s moved by up to ${Math.round(drift * 100)} % between the passes before and after the served setups`);

  // 6. The targets, measured in pairs. With drift like the above, a ratio of figures taken
  // minutes apart says more about the machine than about the server. So each round runs a window of the
  // fastest one-session direct configuration, then, in an order that turns by one each round, the c = 1
  // windows that are compared with it: the one-instance server over HTTP and gRPC, the same with spinning
  // in runs, and the floor servers holding each request for that window's p50; then a window of the best
  // direct configuration and one of the best served setup of the tables. The targets are the medians of
  // the per-round differences and ratios.
  const bestDirectSetup = directMeans.reduce((a, b) => (b.images_per_s > a.images_per_s ? b : a));
  const latencySetup = directMeans.filter((d) => d.sessions === 1 && d.batch === 1).reduce((a, b) => (b.p50_ms < a.p50_ms ? b : a));
  const bestServedRow = results.served.filter((r) => r.concurrency >= 2).reduce((a, b) => (b.images_per_s > a.images_per_s ? b : a));
  const bestServedSetup = setups.find((x) => x.name === bestServedRow.setup);
  const pairRounds = Number(arg('--pairs', '5'));
  const servers = [];
  results.pairs = [];
  try {
    const oneInstance = await serverFor(setups[0], 'store-c1');
    servers.push(oneInstance);
    const spinningInstance = await serverFor(setups[2], 'store-c1-spinning');
    servers.push(spinningInstance);
    const best = await serverFor(bestServedSetup, 'store-best');
    servers.push(best);
    const urlOf = (server, protocol) => (protocol === 'grpc' ? server.grpc : server.http);
    // A few unmeasured requests first: the server sat idle through the windows before it, and its first
    // answers after a pause are slower, as onnxruntime's are (the direct loop has its own warm-up).
    const measure = async (url, protocol, concurrency, requestCount) => {
      await perf({ model: 'resnet50_oneflow', url, protocol, concurrencyRange: String(concurrency), requestCount: 3 * concurrency });
      const r = await perf({ model: 'resnet50_oneflow', url, protocol, concurrencyRange: String(concurrency), requestCount });
      return r.levels[0];
    };
    for (let i = 0; i < pairRounds; i++) {
      const d1 = await direct(onnxPath, latencySetup, seconds * 1000);
      const requests = Math.max(30, Math.round(seconds * d1.images_per_s));
      const p50Of = async (server, protocol) => round((await measure(urlOf(server, protocol), protocol, 1, requests)).latencyUs.p50 / 1000);
      const floorOf = async (protocol) => round((await floor({ protocol, holdMs: d1.p50_ms, bodyBytes, seconds })).floor_ms);
      const windows = [
        ['http_p50_ms', () => p50Of(oneInstance, 'http')],
        ['grpc_p50_ms', () => p50Of(oneInstance, 'grpc')],
        ['http_spinning_p50_ms', () => p50Of(spinningInstance, 'http')],
        ['grpc_spinning_p50_ms', () => p50Of(spinningInstance, 'grpc')],
        ['http_floor_ms', () => floorOf('http')],
        ['grpc_floor_ms', () => floorOf('grpc')],
      ];
      const pair = { direct_p50_ms: d1.p50_ms };
      for (let k = 0; k < windows.length; k++) {
        const [key, run] = windows[(i + k) % windows.length];
        pair[key] = await run();
      }
      const d2 = await direct(onnxPath, bestDirectSetup, seconds * 1000);
      const t = await measure(urlOf(best, bestServedRow.protocol), bestServedRow.protocol, bestServedRow.concurrency, Math.max(30, Math.round(seconds * d2.images_per_s)));
      Object.assign(pair, { direct_images_per_s: d2.images_per_s, served_images_per_s: round(t.throughput) });
      results.pairs.push(pair);
      console.log(`pair ${i + 1}: direct p50 ${pair.direct_p50_ms} ms; HTTP ${pair.http_p50_ms}, gRPC ${pair.grpc_p50_ms}; spinning in runs: HTTP ${pair.http_spinning_p50_ms}, gRPC ${pair.grpc_spinning_p50_ms}; floor +${pair.http_floor_ms} / +${pair.grpc_floor_ms} · direct ${pair.direct_images_per_s} img/s, served ${pair.served_images_per_s}`);
    }
  } finally {
    await stopAll(servers);
  }
  const pairs = results.pairs;
  const over = (key) => round(median(pairs.map((p) => p[key] - p.direct_p50_ms)));
  results.summary = {
    best_direct_setup: bestDirectSetup,
    best_served_setup: `${bestServedRow.setup}, c=${bestServedRow.concurrency}`,
    latency_direct_setup: latencySetup,
    served_over_direct: round(median(pairs.map((p) => p.served_images_per_s / p.direct_images_per_s))),
    http_c1_p50_minus_direct_ms: over('http_p50_ms'),
    grpc_c1_p50_minus_direct_ms: over('grpc_p50_ms'),
    http_c1_spinning_p50_minus_direct_ms: over('http_spinning_p50_ms'),
    grpc_c1_spinning_p50_minus_direct_ms: over('grpc_spinning_p50_ms'),
    http_floor_ms: round(median(pairs.map((p) => p.http_floor_ms))),
    grpc_floor_ms: round(median(pairs.map((p) => p.grpc_floor_ms))),
    direct_drift_between_passes: drift,
  };
  const d = bestDirectSetup;
  const sum = results.summary;
  console.log(`served/direct at c≥2 (${sum.best_served_setup} against ${d.sessions} × ${d.threads} thread(s), batch ${d.batch}; median of ${pairRounds} pairs): ${sum.served_over_direct} (target ≥ 0.95)`);
  console.log(`c=1 p50 over direct p50 (median of ${pairRounds} pairs): HTTP +${sum.http_c1_p50_minus_direct_ms} ms, gRPC +${sum.grpc_c1_p50_minus_direct_ms} ms (target ≤ 1 ms); with spinning in runs: HTTP +${sum.http_c1_spinning_p50_minus_direct_ms} ms, gRPC +${sum.grpc_c1_spinning_p50_minus_direct_ms} ms`);
  console.log(`the floor (a bare server in Node, the same bytes, holding each request for the direct p50): HTTP +${sum.http_floor_ms} ms, gRPC +${sum.grpc_floor_ms} ms`);
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
