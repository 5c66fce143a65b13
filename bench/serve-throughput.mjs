#!/usr/bin/env node
// ResNet-50 (the example's OneFlow model, seeded weights) on this machine's CPU:
//   1. onnxruntime-node directly, no server (the ceiling the server is measured against);
//   2. `ofserve serve` under perf (closed-loop HTTP clients, binary tensors) with several instance /
//      batching configurations.
// Usage: npm run build && node bench/serve-throughput.mjs [--seconds 5] [--out bench/results/serve-throughput.json]
// Prints a table and writes the JSON record. Numbers depend on the machine: record which one ran it.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { init } from '../dist/commands/init.js';
import { convert } from '../dist/commands/convert.js';
import { serve } from '../dist/commands/serve.js';
import { perf } from '../dist/commands/perf.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const seconds = Number(arg('--seconds', '5'));
const out = path.resolve(arg('--out', path.join(root, 'bench/results/serve-throughput.json')));

const work = await mkdtemp(path.join(os.tmpdir(), 'ofserve-bench-'));
const results = { machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, date: new Date().toISOString(), seconds, direct: [], served: [] };

try {
  await init({ cwd: work, repository: 'example', example: true });
  const onnxPath = path.join(work, 'resnet50.onnx');
  await convert({ cwd: work, modelDir: 'example/resnet50_oneflow/1/model', to: 'onnx', output: onnxPath });
  const input = new ort.Tensor('float32', new Float32Array(3 * 224 * 224).map((_, i) => (i % 255) / 255), [1, 3, 224, 224]);

  // 1. Direct onnxruntime-node in this thread. One 2-thread session is the ceiling the server is
  //    measured against. Two 1-thread sessions on the same JS thread do NOT overlap (session.run holds
  //    the thread), which is why ofserve runs every session in its own worker thread.
  for (const [sessions, threads] of [[1, os.cpus().length], [2, 1]]) {
    const ss = await Promise.all(
      Array.from({ length: sessions }, () => ort.InferenceSession.create(onnxPath, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' })),
    );
    for (const s of ss) await s.run({ [s.inputNames[0]]: input });
    let n = 0;
    const t0 = performance.now();
    await Promise.all(ss.map(async (s) => {
      while (performance.now() - t0 < seconds * 1000) {
        await s.run({ [s.inputNames[0]]: input });
        n++;
      }
    }));
    const ips = (n * 1000) / (performance.now() - t0);
    results.direct.push({ sessions, threads, same_js_thread: true, images_per_s: Number(ips.toFixed(2)) });
    console.log(`direct ORT   sessions=${sessions} threads=${threads} (one JS thread): ${ips.toFixed(2)} img/s`);
    await Promise.all(ss.map((s) => s.release()));
  }

  // 2. Through the server.
  const base = await readFile(path.join(work, 'example/resnet50_oneflow/config.pbtxt'), 'utf8');
  const setups = [
    { name: '1 instance', groups: 'count: 1', batching: '', concurrency: '1:4:1' },
    { name: '1 instance, gRPC', groups: 'count: 1', batching: '', concurrency: '1:2:1', protocol: 'grpc' },
    { name: '2 instances', groups: 'count: 2', batching: '', concurrency: '2:4:2' },
    { name: '1 instance + dynamic batching', groups: 'count: 1', batching: 'dynamic_batching { max_queue_delay_microseconds: 5000 }', concurrency: '4:8:4' },
  ];
  for (const setup of setups) {
    const store = path.join(work, 'store');
    await rm(store, { recursive: true, force: true });
    await cp(path.join(work, 'example/resnet50_oneflow'), path.join(store, 'resnet50_oneflow'), { recursive: true });
    const config = base.replace(/count: 1/, setup.groups) + `${setup.batching}\n`;
    await writeFile(path.join(store, 'resnet50_oneflow/config.pbtxt'), config);
    // perf's clients run in this process too, sharing its 2 cores with the server.
    const server = await serve({ cwd: work, modelStore: store, httpPort: 0, grpcPort: 0, address: '127.0.0.1', quiet: true, installSignalHandlers: false });
    const rssLoadedMb = Math.round(process.memoryUsage().rss / 2 ** 20);
    try {
      const protocol = setup.protocol ?? 'http';
      const url = protocol === 'grpc' ? server.urls.grpc : server.urls.http;
      const r = await perf({ model: 'resnet50_oneflow', url, protocol, batchSize: 1, concurrencyRange: setup.concurrency, measurementIntervalMs: seconds * 1000 });
      for (const l of r.levels) {
        const row = {
          setup: setup.name,
          concurrency: l.concurrency,
          images_per_s: Number(l.throughput.toFixed(2)),
          p50_ms: l.latencyUs.p50 / 1000,
          p99_ms: l.latencyUs.p99 / 1000,
          rss_loaded_mb: rssLoadedMb,
          rss_after_mb: Math.round(process.memoryUsage().rss / 2 ** 20),
        };
        results.served.push(row);
        console.log(`served       ${setup.name.padEnd(30)} c=${l.concurrency}: ${row.images_per_s} img/s, p50 ${row.p50_ms.toFixed(1)} ms, p99 ${row.p99_ms.toFixed(1)} ms, rss ${row.rss_loaded_mb}→${row.rss_after_mb} MiB`);
      }
    } finally {
      await server.close();
    }
  }
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
