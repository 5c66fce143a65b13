#!/usr/bin/env node
// INT8 (`ofserve convert --quantize int8`) against FP32 on ResNet-50 with seeded weights, on this CPU:
//   fidelity: top-1 agreement and top-5 overlap with FP32 over --eval inputs not used for calibration;
//   speed: INT8 img/s over FP32 img/s at batch 1 and batch 8, onnxruntime-node directly, FP32 and INT8
//   windows interleaved so a busy machine slows both alike (the ratio is what counts).
// Two models: the example's (`init --example`) and the 2022 OneFlow graph (test/data/oneflow) with seeded weights.
// Images: variations of test/data/cat.jpg (crops, flips, colour shifts) and synthetic patterns; the
// calibration set and the evaluation set come from different seeds.
// Usage: npm run build && node bench/int8.mjs [--calibration 32] [--eval 200] [--seconds 3] [--rounds 3]
//        [--method minmax] [--models example,oneflow2022] [--served yes|no] [--out bench/results/int8.json]
// --served: also both models behind `bin/ofserve serve` (a child process; perf's client runs here),
// concurrency 1, FP32 and INT8 windows interleaved.
import { createRequire } from 'node:module';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { init } from '../dist/commands/init.js';
import { convert } from '../dist/commands/convert.js';
import { seededRandom } from '../dist/client/seeded-random.js';
import { perf } from '../dist/commands/perf.js';
import { loadImageTensor } from '../dist/image/preprocess.js';
import { seededParameter } from '../dist/core/graph/builders/seeded.js';
import { firstJob } from '../dist/core/graph/oneflow/importer.js';
import { parseMlir } from '../dist/core/graph/oneflow/mlir-parser.js';
import { jobVariables, writeVariable } from '../dist/core/graph/oneflow/variables.js';
import { cpuSummary } from './cpu.mjs';
import { arg, root, startServer } from './common.mjs';

const require = createRequire(import.meta.url);
const nCalibration = Number(arg('--calibration', '32'));
const nEval = Number(arg('--eval', '200'));
const seconds = Number(arg('--seconds', '3'));
const rounds = Number(arg('--rounds', '3'));
const method = arg('--method', 'minmax');
const models = arg('--models', 'example,oneflow2022').split(',');
const served = arg('--served', 'yes') !== 'no';
const out = path.resolve(arg('--out', path.join(root, 'bench/results/int8.json')));
const SIZE = 224;


const catPath = path.join(root, 'test/data/cat.jpg');
/** One PNG: a crop/flip/colour variation of the cat, or (odd k) a smooth random colour pattern with noise. */
async function makeImage(seed) {
  const r = seededRandom(seed);
  if (seed % 2 === 0) {
    const meta = await sharp(catPath).metadata();
    const w = Math.round(meta.width * (0.4 + 0.6 * r()));
    const h = Math.round(meta.height * (0.4 + 0.6 * r()));
    let img = sharp(catPath)
      .extract({ left: Math.floor(r() * (meta.width - w)), top: Math.floor(r() * (meta.height - h)), width: w, height: h })
      .modulate({ brightness: 0.6 + 0.8 * r(), saturation: 0.3 + 1.4 * r(), hue: Math.floor(r() * 360) });
    if (r() < 0.5) img = img.flop();
    if (r() < 0.3) img = img.blur(0.5 + 2 * r());
    return img.resize(SIZE, SIZE, { fit: 'fill' }).png().toBuffer();
  }
  const rgb = Buffer.alloc(SIZE * SIZE * 3);
  const waves = Array.from({ length: 3 }, () => Array.from({ length: 3 }, () => [r() * 0.1, r() * 0.1, r() * 6.28, 40 + 80 * r()]));
  const base = [r() * 255, r() * 255, r() * 255];
  const noise = 40 * r();
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      for (let c = 0; c < 3; c++) {
        let v = base[c];
        for (const [fx, fy, ph, amp] of waves[c]) v += amp * Math.sin(fx * x + fy * y + ph);
        rgb[(y * SIZE + x) * 3 + c] = Math.max(0, Math.min(255, v + noise * (r() - 0.5)));
      }
    }
  }
  return sharp(rgb, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toBuffer();
}

/** The weightless 2022 OneFlow ResNet-50 graph with the builders' seeded values (as test/fixtures/oneflow.ts). */
async function writeSeededOneflow2022(outDir, seed) {
  const mlirPath = path.join(root, 'test/data/oneflow/resnet50_graph_2022/model.mlir');
  await mkdir(outDir, { recursive: true });
  await copyFile(mlirPath, path.join(outDir, 'model.mlir'));
  const job = firstJob(parseMlir(await readFile(mlirPath, 'utf8'), mlirPath), mlirPath);
  for (const v of jobVariables(job, mlirPath)) {
    const count = v.shape.reduce((a, b) => a * b, 1);
    let data;
    if (v.dtype === 'FP32') {
      const values = seededParameter(seed, v.name.replace(/^model\./, ''), v.shape);
      data = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    } else data = new Uint8Array(count * 8);
    await writeVariable(outDir, { name: v.name, dtype: v.dtype, shape: v.shape, data });
  }
}

function topK(row, k) {
  return [...row.keys()].sort((a, b) => row[b] - row[a]).slice(0, k);
}

async function logits(session, inputs) {
  const rows = [];
  const name = session.inputNames[0];
  for (const x of inputs) {
    const r = await session.run({ [name]: new ort.Tensor('float32', x, [1, 3, SIZE, SIZE]) });
    rows.push(Float32Array.from(r[session.outputNames[0]].data));
  }
  return rows;
}

/** Interleaved windows: FP32, INT8, FP32, INT8 …; img/s per precision over all its windows. */
async function speed(sessions, batch) {
  const x = new Float32Array(batch * 3 * SIZE * SIZE).map((_, i) => ((i * 7) % 255) / 255);
  const totals = Object.fromEntries(Object.keys(sessions).map((k) => [k, { images: 0, ms: 0 }]));
  for (const s of Object.values(sessions)) await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, [batch, 3, SIZE, SIZE]) });
  for (let round = 0; round < rounds; round++) {
    for (const [k, s] of Object.entries(sessions)) {
      const feed = { [s.inputNames[0]]: new ort.Tensor('float32', x, [batch, 3, SIZE, SIZE]) };
      const t0 = performance.now();
      while (performance.now() - t0 < seconds * 1000) {
        await s.run(feed);
        totals[k].images += batch;
      }
      totals[k].ms += performance.now() - t0;
    }
  }
  return Object.fromEntries(Object.entries(totals).map(([k, t]) => [k, Number(((t.images * 1000) / t.ms).toFixed(2))]));
}

/** Both models behind one `ofserve serve` child; perf (this process) alternates between them. */
async function servedSpeed(name, fp32Path, int8Path) {
  const store = path.join(work, `store-${name}`);
  await init({ cwd: work, model: fp32Path, name: 'fp32', repository: store });
  await init({ cwd: work, model: int8Path, name: 'int8', repository: store });
  const server = await startServer(store);
  try {
    const out = {};
    for (const batch of [1, 8]) {
      const t = { fp32: { images: 0, s: 0 }, int8: { images: 0, s: 0 } };
      for (let round = 0; round < rounds; round++) {
        for (const m of ['fp32', 'int8']) {
          const r = await perf({ model: m, url: server.http, batchSize: batch, concurrencyRange: '1', measurementIntervalMs: seconds * 1000 });
          t[m].images += r.levels[0].throughput * seconds;
          t[m].s += seconds;
        }
      }
      const [f, q] = [t.fp32.images / t.fp32.s, t.int8.images / t.int8.s];
      out[`batch${batch}`] = { fp32: Number(f.toFixed(2)), int8: Number(q.toFixed(2)), ratio: Number((q / f).toFixed(2)) };
    }
    return out;
  } finally {
    await server.stop();
  }
}

const work = await mkdtemp(path.join(os.tmpdir(), 'ofserve-int8-'));
const results = { command: `node bench/int8.mjs ${process.argv.slice(2).join(' ')}`.trim(), date: new Date().toISOString(), cpu: cpuSummary(), node: process.version, ort: require('onnxruntime-node/package.json').version, method, calibration_images: nCalibration, eval_inputs: nEval, models: [] };
console.log(`CPU: ${results.cpu.model} (${results.cpu.cores} cores; ${results.cpu.extensions.join(' ') || 'no AVX2'}); load ${results.cpu.loadavg.join(' ')}`);

try {
  const calDir = path.join(work, 'calibration');
  await mkdir(calDir);
  for (let i = 0; i < nCalibration; i++) await writeFile(path.join(calDir, `cal-${String(i).padStart(3, '0')}.png`), await makeImage(1000 + i));
  const evalInputs = [];
  for (let i = 0; i < nEval; i++) evalInputs.push(await loadImageTensor(await makeImage(900_000 + i), { width: SIZE, height: SIZE, layout: 'NCHW', scale: 'unit' }));

  await init({ cwd: work, repository: 'example', example: true });
  const sources = {
    example: path.join(work, 'example/resnet50_oneflow/1/model'),
    oneflow2022: path.join(work, 'oneflow2022'),
  };
  if (models.includes('oneflow2022')) await writeSeededOneflow2022(sources.oneflow2022, 0);

  for (const name of models) {
    const fp32Path = path.join(work, `${name}-fp32.onnx`);
    const int8Path = path.join(work, `${name}-int8.onnx`);
    await convert({ cwd: work, modelDir: sources[name], to: 'onnx', output: fp32Path });
    const t0 = performance.now();
    const q = await convert({ cwd: work, modelDir: sources[name], to: 'onnx', output: int8Path, quantize: 'int8', calibration: calDir, calibrationMethod: method });
    const convertS = (performance.now() - t0) / 1000;
    const opts = { intraOpNumThreads: os.availableParallelism(), interOpNumThreads: 1, graphOptimizationLevel: 'all' };
    const fp32 = await ort.InferenceSession.create(fp32Path, opts);
    const int8 = await ort.InferenceSession.create(int8Path, opts);

    const [a, b] = [await logits(fp32, evalInputs), await logits(int8, evalInputs)];
    let top1 = 0, top5 = 0;
    const classes = new Set();
    for (let i = 0; i < a.length; i++) {
      const [ta, tb] = [topK(a[i], 5), topK(b[i], 5)];
      classes.add(ta[0]);
      if (ta[0] === tb[0]) top1++;
      top5 += ta.filter((c) => tb.includes(c)).length / 5;
    }
    // A seeded (untrained) ResNet-50 puts nearly every input in the same few classes, so plain top-1
    // agreement says little. Centred: subtract FP32's mean logit vector over the evaluation set from both,
    // leaving the part of the ranking that depends on the input. And the logit error relative to how
    // much FP32's logits move from input to input.
    const mean = new Float64Array(a[0].length);
    for (const row of a) row.forEach((v, j) => (mean[j] += v / a.length));
    const centre = (row) => row.map((v, j) => v - mean[j]);
    let centredTop1 = 0, errSq = 0, spreadSq = 0;
    const centredClasses = new Set();
    for (let i = 0; i < a.length; i++) {
      const [ca, cb] = [centre(a[i]), centre(b[i])];
      const [ta, tb] = [topK(ca, 1)[0], topK(cb, 1)[0]];
      centredClasses.add(ta);
      if (ta === tb) centredTop1++;
      for (let j = 0; j < ca.length; j++) {
        errSq += (a[i][j] - b[i][j]) ** 2;
        spreadSq += ca[j] ** 2;
      }
    }
    const b1 = await speed({ fp32, int8 }, 1);
    const b8 = await speed({ fp32, int8 }, 8);
    await fp32.release();
    await int8.release();
    const viaServer = served ? await servedSpeed(name, fp32Path, int8Path) : undefined;
    const row = {
      model: name,
      fp32_mb: Number(((await readFile(fp32Path)).byteLength / 1e6).toFixed(1)),
      int8_mb: Number((q.bytes / 1e6).toFixed(1)),
      convert_s: Number(convertS.toFixed(1)),
      top1_agreement: Number((top1 / a.length).toFixed(4)),
      top5_overlap: Number((top5 / a.length).toFixed(4)),
      distinct_fp32_top1_classes: classes.size,
      centred_top1_agreement: Number((centredTop1 / a.length).toFixed(4)),
      centred_distinct_classes: centredClasses.size,
      logit_error_over_input_spread: Number(Math.sqrt(errSq / spreadSq).toFixed(4)),
      batch1: { ...b1, ratio: Number((b1.int8 / b1.fp32).toFixed(2)) },
      batch8: { ...b8, ratio: Number((b8.int8 / b8.fp32).toFixed(2)) },
      ...(viaServer ? { served: viaServer } : {}),
    };
    results.models.push(row);
    console.log(
      `${name}: top-1 agreement ${(100 * row.top1_agreement).toFixed(1)} % (${top1}/${a.length}, ${classes.size} distinct FP32 classes), top-5 overlap ${(100 * row.top5_overlap).toFixed(1)} %; ` +
        `centred top-1 ${(100 * row.centred_top1_agreement).toFixed(1)} % (${centredClasses.size} classes), logit error / input spread ${row.logit_error_over_input_spread}; ` +
        `batch 1: FP32 ${b1.fp32} img/s, INT8 ${b1.int8} img/s (×${row.batch1.ratio}); batch 8: FP32 ${b8.fp32}, INT8 ${b8.int8} (×${row.batch8.ratio}); ` +
        `${row.fp32_mb} MB → ${row.int8_mb} MB`,
    );
    if (viaServer) for (const [b, r] of Object.entries(viaServer)) console.log(`  served (HTTP, concurrency 1) ${b}: FP32 ${r.fp32} img/s, INT8 ${r.int8} img/s (×${r.ratio})`);
  }
  results.cpu.loadavg_end = os.loadavg().map((l) => Number(l.toFixed(1)));
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${out}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
