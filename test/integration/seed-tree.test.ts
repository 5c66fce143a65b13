import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildResNet50 } from '../../src/core/graph/builders/resnet50.js';
import { OrtBackend } from '../../src/runtime/onnxruntime/backend.js';
import { loadImageTensor } from '../../src/image/preprocess.js';
import { classify } from '../../src/commands/classify.js';
import { serve, type RunningServer } from '../../src/commands/serve.js';
import type { Logger } from '../../src/core/log.js';
import { catJpg, imagenetLabels } from '../fixtures/images.js';
import { SEED_CONFIG } from '../fixtures/repo.js';
import { makeTemp, removeTemp, RESNET50_MLIR, writeSeededResnetWeights } from '../fixtures/oneflow.js';
import { fp32Tensor, fp32Values } from '../fixtures/ort.js';

/**
 * The seed's own tree — `resnet50_oneflow/1/model` written from OneFlow's printed ResNet-50 graph with
 * seeded weights, the seed's config.pbtxt verbatim (KIND_GPU, max_batch_size 1), ImageNet labels —
 * served by `serve`, queried with exactly the bytes Python tritonclient sends. The expected answer comes
 * from an independent path: the ONNX ResNet-50 builder with the same seed, run by onnxruntime directly.
 */

const SEED = 7;
let dir: string;
let server: RunningServer;
const logLines: string[] = [];
const log: Logger = {
  info: (m) => logLines.push(`I ${m}`),
  warn: (m) => logLines.push(`W ${m}`),
  error: (m) => logLines.push(`E ${m}`),
  verbose: () => {},
};
let expectedLogits: Float32Array;
let catTensor: Float32Array;

function rawPost(url: string, path: string, headers: Record<string, string | number>, body: Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What tritonclient's InferResult.as_numpy does for a BYTES output sent as binary. */
function decodeLikePython(res: { headers: Record<string, string | string[] | undefined>; body: Buffer }, output: string): string[] {
  const headerLength = Number(res.headers['inference-header-content-length']);
  const json = JSON.parse(res.body.subarray(0, headerLength).toString('utf8')) as {
    outputs: Array<{ name: string; parameters?: { binary_data_size?: number } }>;
  };
  let offset = headerLength;
  for (const o of json.outputs) {
    const size = o.parameters?.binary_data_size ?? 0;
    if (o.name === output) {
      const out: string[] = [];
      let p = offset;
      while (p < offset + size) {
        const len = res.body.readUInt32LE(p);
        out.push(res.body.subarray(p + 4, p + 4 + len).toString('utf8'));
        p += 4 + len;
      }
      return out;
    }
    offset += size;
  }
  throw new Error(`no output ${output}`);
}

beforeAll(async () => {
  dir = await makeTemp('ofserve-seed-');
  const model = join(dir, 'model_repository', 'resnet50_oneflow');
  await writeSeededResnetWeights(RESNET50_MLIR, join(model, '1', 'model'), SEED);
  await writeFile(join(model, 'config.pbtxt'), SEED_CONFIG);
  await writeFile(join(model, 'labels.txt'), await readFile(imagenetLabels));
  await mkdir(join(dir, 'empty'));

  catTensor = await loadImageTensor(catJpg, { width: 224, height: 224, layout: 'NCHW', scale: 'unit' });
  const backend = new OrtBackend();
  const reference = await backend.createSession(
    { model: 'reference', version: '1', graph: buildResNet50({ seed: SEED, inputName: 'INPUT_0', outputName: 'OUTPUT_0' }) },
    { device: 'cpu', threads: 2 },
  );
  try {
    const [out] = await reference.run([fp32Tensor('INPUT_0', [1, 3, 224, 224], catTensor)]);
    expectedLogits = fp32Values(out);
  } finally {
    await reference.dispose();
  }

  server = await serve({ cwd: dir, modelStore: 'model_repository', httpPort: 0, metricsPort: 0, address: '127.0.0.1', logger: log, installSignalHandlers: false });
}, 180_000);

afterAll(async () => {
  await server?.close();
  await removeTemp(dir);
});

describe("the seed's tree served by ofserve", () => {
  it('loads with one clear warning that KIND_GPU runs on CPU here', () => {
    const gpuWarnings = logLines.filter((l) => l.startsWith('W') && l.includes('KIND_GPU'));
    expect(gpuWarnings).toHaveLength(1);
    expect(gpuWarnings[0]).toContain('--strict');
    expect(server.lifecycle.index()).toEqual([{ name: 'resnet50_oneflow', version: '1', state: 'READY' }]);
  });

  it("answers the Python client's exact request with the reference model's top 3", async () => {
    const header = Buffer.from(
      '{"inputs":[{"name":"INPUT_0","shape":[1,3,224,224],"datatype":"FP32","parameters":{"binary_data_size":602112}}],"outputs":[{"name":"OUTPUT_0","parameters":{"classification":3,"binary_data":true}}]}',
    );
    expect(header.length).toBe(197);
    const data = Buffer.from(catTensor.buffer, catTensor.byteOffset, catTensor.byteLength);
    const res = await rawPost(server.urls.http as string, '/v2/models/resnet50_oneflow/infer', { 'Inference-Header-Content-Length': 197, 'Content-Length': 197 + data.length }, Buffer.concat([header, data]));
    expect(res.status, res.body.toString()).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');

    const entries = decodeLikePython(res, 'OUTPUT_0');
    const labels = (await readFile(imagenetLabels, 'utf8')).split('\n');
    const top = [...expectedLogits.keys()].sort((a, b) => expectedLogits[b] - expectedLogits[a]).slice(0, 3);
    expect(entries).toHaveLength(3);
    entries.forEach((entry, i) => {
      const [score, index, ...label] = entry.split(':');
      expect(score).toMatch(/^-?\d+\.\d{6}$/);
      expect(Number(index)).toBe(top[i]);
      expect(label.join(':')).toBe(labels[top[i]]);
      expect(Math.abs(Number(score) - expectedLogits[top[i]])).toBeLessThan(1e-4 * Math.max(1, Math.abs(expectedLogits[top[i]])));
    });
  });

  it('`classify` prints the same top-1 class', async () => {
    const result = await classify({ cwd: dir, images: [catJpg], top: 1, url: server.urls.http });
    const best = [...expectedLogits.keys()].reduce((a, b) => (expectedLogits[b] > expectedLogits[a] ? b : a));
    expect(result.model).toBe('resnet50_oneflow');
    expect(result.images[0].predictions[0].index).toBe(best);
  });

  it('rejects a batch of 2 on a max_batch_size 1 model with a clear 400', async () => {
    const body = JSON.stringify({ inputs: [{ name: 'INPUT_0', shape: [2, 3, 224, 224], datatype: 'FP32', parameters: { binary_data_size: 2 * 602112 } }] });
    const data = Buffer.alloc(2 * 602112);
    const res = await rawPost(server.urls.http as string, '/v2/models/resnet50_oneflow/infer', { 'Inference-Header-Content-Length': body.length }, Buffer.concat([Buffer.from(body), data]));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString()).error).toMatch(/batch/i);
  });

  it('--strict refuses KIND_GPU without a usable GPU, as Triton does', async () => {
    await expect(
      serve({ cwd: dir, modelStore: 'model_repository', httpPort: 0, address: '127.0.0.1', strict: true, quiet: true, installSignalHandlers: false }),
    ).rejects.toMatchObject({ code: 'OFS_MODEL_LOAD_FAILED', message: expect.stringContaining('KIND_GPU') });
  });

  it('lets an in-flight request finish when the server stops', async () => {
    const other = await serve({ cwd: dir, modelStore: 'model_repository', httpPort: 0, address: '127.0.0.1', quiet: true, installSignalHandlers: false });
    const body = JSON.stringify({ inputs: [{ name: 'INPUT_0', shape: [1, 3, 224, 224], datatype: 'FP32', parameters: { binary_data_size: 602112 } }] });
    const pending = rawPost(other.urls.http as string, '/v2/models/resnet50_oneflow/infer', { 'Inference-Header-Content-Length': body.length }, Buffer.concat([Buffer.from(body), Buffer.alloc(602112)]));
    // Stop once the server holds the request (a fixed sleep races a loaded machine's connect).
    const stats = () => other.lifecycle.get('resnet50_oneflow').stats.snapshot().pending;
    for (let i = 0; i < 600 && stats() === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(stats()).toBeGreaterThan(0);
    const closing = other.close();
    const res = await pending;
    await closing;
    expect(res.status, res.body.toString()).toBe(200);
  });
});
