#!/usr/bin/env node
// Response cache: a cache hit against a miss on the example ResNet-50 (OneFlow, seeded weights), served
// by `ofserve serve --cache-config local,size=...` with `response_cache { enable: true }`.
//   miss: every request carries a different image (one float changed), so each runs the model and is
//         inserted; hit: the same image again and again, answered from the cache.
// One HTTP client, sequential requests, binary tensor (602 KB) in, top-3 classification out.
// Usage: npm run build && node bench/cache.mjs [--requests 30] [--out bench/results/cache.json]
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { init } from '../dist/commands/init.js';
import { serve } from '../dist/commands/serve.js';
import { arg, root } from './common.mjs';

const requests = Number(arg('--requests', '30'));
const out = path.resolve(arg('--out', path.join(root, 'bench/results/cache.json')));
const MODEL = 'resnet50_oneflow';
const CACHE_BYTES = 64 * 2 ** 20;

const work = await mkdtemp(path.join(os.tmpdir(), 'ofserve-bench-cache-'));
try {
  await init({ cwd: work, repository: 'example', example: true });
  const store = path.join(work, 'store');
  await cp(path.join(work, 'example', MODEL), path.join(store, MODEL), { recursive: true });
  const configFile = path.join(store, MODEL, 'config.pbtxt');
  await writeFile(configFile, `${await readFile(configFile, 'utf8')}response_cache { enable: true }\n`);
  const server = await serve({
    cwd: work, modelStore: store, httpPort: 0, address: '127.0.0.1', quiet: true, installSignalHandlers: false,
    cacheConfig: [`local,size=${CACHE_BYTES}`],
  });
  try {
    const header = JSON.stringify({
      inputs: [{ name: 'INPUT_0', datatype: 'FP32', shape: [1, 3, 224, 224], parameters: { binary_data_size: 3 * 224 * 224 * 4 } }],
      outputs: [{ name: 'OUTPUT_0', parameters: { classification: 3 } }],
    });
    const image = (seed) => {
      const a = new Float32Array(3 * 224 * 224).map((_, i) => ((i * 7) % 255) / 255);
      a[0] = seed; // one float differs: a different request as far as the cache is concerned
      return Buffer.from(a.buffer);
    };
    const infer = async (tensor) => {
      const t0 = performance.now();
      const res = await fetch(`${server.urls.http}/v2/models/${MODEL}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(Buffer.byteLength(header)) },
        body: Buffer.concat([Buffer.from(header), tensor]),
      });
      const body = await res.json();
      if (res.status !== 200) throw new Error(`infer failed: ${res.status} ${JSON.stringify(body)}`);
      return { ms: performance.now() - t0, top: body.outputs[0].data };
    };
    const stats = async () => {
      const s = await (await fetch(`${server.urls.http}/v2/models/${MODEL}/stats`)).json();
      return s.model_stats[0].inference_stats;
    };
    const summary = (xs) => {
      const s = [...xs].sort((a, b) => a - b);
      const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
      return { n: s.length, mean_ms: Number((s.reduce((a, b) => a + b, 0) / s.length).toFixed(3)), p50_ms: Number(q(0.5).toFixed(3)), p99_ms: Number(q(0.99).toFixed(3)) };
    };

    for (let i = 0; i < 3; i++) await infer(image(-1 - i)); // warm up: worker, JIT, sockets

    const before = await stats();
    const miss = [];
    for (let i = 0; i < requests; i++) miss.push((await infer(image(i + 1))).ms);
    const afterMiss = await stats();

    const same = image(0.5);
    const first = await infer(same);
    const hit = [];
    let identical = true;
    for (let i = 0; i < requests; i++) {
      const r = await infer(same);
      hit.push(r.ms);
      identical &&= JSON.stringify(r.top) === JSON.stringify(first.top);
    }
    const afterHit = await stats();

    const perCall = (a, b, key) => ({
      count: b[key].count - a[key].count,
      mean_us: Number(((b[key].ns - a[key].ns) / Math.max(1, b[key].count - a[key].count) / 1000).toFixed(1)),
    });
    const results = {
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
      date: new Date().toISOString(),
      model: MODEL,
      cache_bytes: CACHE_BYTES,
      requests,
      client_latency: { miss: summary(miss), hit: summary(hit) },
      speedup_p50: Number((summary(miss).p50_ms / summary(hit).p50_ms).toFixed(1)),
      server: {
        miss_lookup_and_insert: perCall(before, afterMiss, 'cache_miss'),
        hit_lookup: perCall(afterMiss, afterHit, 'cache_hit'),
        compute_infer_per_miss_us: Number(((afterMiss.compute_infer.ns - before.compute_infer.ns) / requests / 1000).toFixed(1)),
      },
      hits_answer_like_the_miss: identical,
    };
    console.log(`miss: p50 ${results.client_latency.miss.p50_ms} ms, mean ${results.client_latency.miss.mean_ms} ms (${requests} requests)`);
    console.log(`hit:  p50 ${results.client_latency.hit.p50_ms} ms, mean ${results.client_latency.hit.mean_ms} ms (${requests} requests)`);
    console.log(`server side: miss lookup+insert ${results.server.miss_lookup_and_insert.mean_us} µs, hit lookup ${results.server.hit_lookup.mean_us} µs, model ${results.server.compute_infer_per_miss_us} µs per miss`);
    await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
  } finally {
    await server.close();
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
