#!/usr/bin/env node
// parameters["session.intra_op.allow_spinning"] = "1" against ofserve's default (spinning off), with
// ResNet-50 (the example's OneFlow model, seeded weights) on this machine's CPU: two `ofserve serve`
// processes, one per setting, driven by `ofserve perf` in alternating windows so drift hits both alike.
//   1. one model with one instance that has every core: p50 and img/s at concurrency 1 and 2, HTTP and gRPC;
//   2. two such models loaded together, both under load at once: what spinning costs when the
//      instances' threads outnumber the cores.
// Usage: npm run build && node bench/spinning.mjs [--rounds 5] [--requests 60] [--out FILE]
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { init } from '../dist/commands/init.js';
import { perf } from '../dist/commands/perf.js';
import { SPINNING_PARAMETER, arg, mean, median, root, round, startServer, stopAll } from './common.mjs';
import { cpuSummary } from './cpu.mjs';

const rounds = Number(arg('--rounds', '5'));
const requests = Number(arg('--requests', '60'));
const out = path.resolve(arg('--out', path.join(root, 'bench/results/spinning.json')));
const cpu = cpuSummary();
console.log(`CPU: ${cpu.model}, ${cpu.cores} cores, ${cpu.extensions.join(' ') || 'no AVX2/AVX-512/AMX'}; Node ${process.version}`);


/** A store with `models` copies of the example ResNet-50, each one instance over every core. */
async function store(work, name, models, spinning) {
  const dir = path.join(work, name);
  const base = await readFile(path.join(work, 'example/resnet50_oneflow/config.pbtxt'), 'utf8');
  for (const model of models) {
    await cp(path.join(work, 'example/resnet50_oneflow'), path.join(dir, model), { recursive: true });
    const config = base.replace('name: "resnet50_oneflow"', `name: "${model}"`) + (spinning ? `\n${SPINNING_PARAMETER}\n` : '');
    await writeFile(path.join(dir, model, 'config.pbtxt'), config);
  }
  return dir;
}

/** One window per model at once (after a short warm-up): the mean p50 and the total img/s. */
async function window(server, models, protocol, concurrency) {
  const url = protocol === 'grpc' ? server.grpc : server.http;
  const run = (model, n) => perf({ model, url, protocol, concurrencyRange: String(concurrency), requestCount: n });
  await Promise.all(models.map((m) => run(m, 3 * concurrency)));
  const t0 = performance.now();
  const levels = (await Promise.all(models.map((m) => run(m, requests)))).map((r) => r.levels[0]);
  const seconds = (performance.now() - t0) / 1000;
  return { p50_ms: mean(levels.map((l) => l.latencyUs.p50 / 1000)), images_per_s: (models.length * requests) / seconds };
}

const work = await mkdtemp(path.join(os.tmpdir(), 'ofserve-spinning-'));
const results = { machine: { ...cpu, node: process.version }, date: new Date().toISOString(), rounds, requests, cases: [] };
try {
  await init({ cwd: work, repository: 'example', example: true });
  const cases = [
    { name: 'one model, HTTP, c=1', models: ['resnet50'], protocol: 'http', concurrency: 1 },
    { name: 'one model, gRPC, c=1', models: ['resnet50'], protocol: 'grpc', concurrency: 1 },
    { name: 'one model, HTTP, c=2', models: ['resnet50'], protocol: 'http', concurrency: 2 },
    { name: 'two models under load at once, HTTP, c=1 each', models: ['resnet50_a', 'resnet50_b'], protocol: 'http', concurrency: 1 },
  ];
  for (const group of [['resnet50'], ['resnet50_a', 'resnet50_b']]) {
    const servers = [];
    try {
      const on = await startServer(await store(work, `on-${group.length}`, group, true));
      servers.push(on);
      const off = await startServer(await store(work, `off-${group.length}`, group, false));
      servers.push(off);
      for (const c of cases.filter((x) => x.models.join() === group.join())) {
        const pairs = [];
        for (let i = 0; i < rounds; i++) {
          const a = await window(on, c.models, c.protocol, c.concurrency);
          const b = await window(off, c.models, c.protocol, c.concurrency);
          pairs.push({ on: a, off: b });
        }
        const row = {
          case: c.name,
          spinning_p50_ms: round(median(pairs.map((p) => p.on.p50_ms))),
          off_p50_ms: round(median(pairs.map((p) => p.off.p50_ms))),
          p50_difference_ms: round(median(pairs.map((p) => p.on.p50_ms - p.off.p50_ms))),
          spinning_images_per_s: round(median(pairs.map((p) => p.on.images_per_s))),
          off_images_per_s: round(median(pairs.map((p) => p.off.images_per_s))),
          images_per_s_ratio: round(median(pairs.map((p) => p.on.images_per_s / p.off.images_per_s))),
        };
        results.cases.push(row);
        console.log(`${c.name.padEnd(48)} spinning in runs: p50 ${row.spinning_p50_ms} ms, ${row.spinning_images_per_s} img/s · off: p50 ${row.off_p50_ms} ms, ${row.off_images_per_s} img/s · median pair: ${row.p50_difference_ms >= 0 ? '+' : ''}${row.p50_difference_ms} ms, ×${row.images_per_s_ratio} img/s`);
      }
    } finally {
      await stopAll(servers);
    }
  }
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
