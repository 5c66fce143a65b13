import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify } from '../../src/commands/classify.js';
import { init } from '../../src/commands/init.js';
import { serve, type RunningServer } from '../../src/commands/serve.js';
import type { Logger } from '../../src/core/log.js';
import { serializeBytesElements } from '../../src/core/tensor/bytes.js';
import { loadImageTensor } from '../../src/image/preprocess.js';
import { REPO_ROOT } from '../fixtures/models.js';
import { connect, statusOf } from '../unit/server/grpc/grpc-client.js';

/**
 * JPEG in, labels out: `init --example` writes resnet50_pipeline (the image_preprocess step
 * resnet50_preprocess, then resnet50_oneflow); `serve` in explicit mode loads it with --load-model
 * alone. Sending cat.jpg's own bytes must give the top 3 that the client gets by preprocessing the
 * image itself and sending the tensor to resnet50_oneflow.
 */

const CAT = join(REPO_ROOT, 'templates', 'images', 'cat.jpg');
let dir: string;
let server: RunningServer;
let cat: Buffer;
/** [score, index, label] of the client-side path: classify's own preprocessing, tensor to ResNet-50. */
let expected: [number, number, string][];
const logLines: string[] = [];
const log: Logger = { info: (m) => logLines.push(m), warn: (m) => logLines.push(m), error: (m) => logLines.push(m), verbose: () => {} };

const parse = (s: string): [number, number, string] => {
  const [score, index, ...label] = s.split(':');
  return [Number(score), Number(index), label.join(':')];
};

function expectSameTop3(got: [number, number, string][]): void {
  expect(got.map(([, i, l]) => [i, l])).toEqual(expected.map(([, i, l]) => [i, l]));
  got.forEach(([score], i) => expect(Math.abs(score - expected[i][0])).toBeLessThan(1e-3));
}

async function post(path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const res = await fetch(`${server.urls.http}${path}`, { method: 'POST', headers, body: new Uint8Array(body) });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

/** JSON header + binary data, as tritonclient.http sends it. */
function binaryRequest(json: object, data: Uint8Array): { headers: Record<string, string>; body: Buffer } {
  const header = Buffer.from(JSON.stringify(json));
  return { headers: { 'Inference-Header-Content-Length': String(header.length) }, body: Buffer.concat([header, Buffer.from(data)]) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ofserve-pipeline-'));
  await init({ cwd: dir, example: true });
  cat = await readFile(CAT);
  server = await serve({
    cwd: dir,
    modelStore: 'model_repository',
    httpPort: 0,
    grpcPort: 0,
    metricsPort: 0,
    address: '127.0.0.1',
    controlMode: 'explicit',
    loadModels: ['resnet50_pipeline'],
    logger: log,
    installSignalHandlers: false,
  });

  const tensor = await loadImageTensor(CAT, { width: 224, height: 224, layout: 'NCHW', scale: 'unit' });
  const { headers, body } = binaryRequest(
    {
      inputs: [{ name: 'INPUT_0', shape: [1, 3, 224, 224], datatype: 'FP32', parameters: { binary_data_size: tensor.byteLength } }],
      outputs: [{ name: 'OUTPUT_0', parameters: { classification: 3 } }],
    },
    new Uint8Array(tensor.buffer),
  );
  const res = await post('/v2/models/resnet50_oneflow/infer', headers, body);
  expect(res.status, res.body.toString()).toBe(200);
  expected = (JSON.parse(res.body.toString()) as { outputs: { data: string[] }[] }).outputs[0].data.map(parse);
}, 300_000);

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('resnet50_pipeline from init --example', () => {
  it('loads with its composing models in explicit mode, and says BYTES in its metadata', () => {
    expect(server.lifecycle.index().map((e) => `${e.name}:${e.state}`)).toEqual([
      'resnet50_oneflow:READY',
      'resnet50_pipeline:READY',
      'resnet50_preprocess:READY',
    ]);
    const meta = server.dataplane.modelMetadata('resnet50_pipeline');
    expect(meta.platform).toBe('ensemble');
    expect(meta.inputs).toEqual([{ name: 'IMAGE', datatype: 'BYTES', shape: [-1, 1] }]);
    expect(expected).toHaveLength(3);
    expect(expected[0][2]).not.toBe('');
  });

  it('HTTP, JSON + binary: the raw cat.jpg bytes as a BYTES element give the same top 3', async () => {
    const data = serializeBytesElements([cat]);
    const { headers, body } = binaryRequest(
      {
        inputs: [{ name: 'IMAGE', shape: [1, 1], datatype: 'BYTES', parameters: { binary_data_size: data.length } }],
        outputs: [{ name: 'OUTPUT_0', parameters: { classification: 3 } }],
      },
      data,
    );
    const res = await post('/v2/models/resnet50_pipeline/infer', headers, body);
    expect(res.status, res.body.toString()).toBe(200);
    const json = JSON.parse(res.body.toString()) as { outputs: { name: string; data: string[] }[] };
    expectSameTop3(json.outputs[0].data.map(parse));
  });

  it('HTTP, raw binary request (Inference-Header-Content-Length: 0): the body is the JPEG itself', async () => {
    const res = await post('/v2/models/resnet50_pipeline/infer', { 'Inference-Header-Content-Length': '0' }, cat);
    expect(res.status, res.body.toString()).toBe(200);
    const headerLength = Number(res.headers.get('inference-header-content-length'));
    const scores = new Float32Array(new Uint8Array(res.body.subarray(headerLength)).buffer);
    expect(scores).toHaveLength(1000);
    const top = [...scores.keys()].sort((a, b) => scores[b] - scores[a]).slice(0, 3);
    expect(top).toEqual(expected.map(([, i]) => i));
    top.forEach((i, r) => expect(Math.abs(scores[i] - expected[r][0])).toBeLessThan(1e-3));
  });

  it('gRPC: the same request on raw_input_contents', async () => {
    const client = connect(Number(server.urls.grpc?.split(':').pop()));
    try {
      const r = await client.call<Record<string, any>>('ModelInfer', {
        model_name: 'resnet50_pipeline',
        inputs: [{ name: 'IMAGE', datatype: 'BYTES', shape: [1, 1] }],
        outputs: [{ name: 'OUTPUT_0', parameters: { classification: { int64_param: 3 } } }],
        raw_input_contents: [serializeBytesElements([cat])],
      });
      const raw = Buffer.from(r.raw_output_contents[0]);
      const strings: string[] = [];
      for (let at = 0; at < raw.length; ) {
        const n = raw.readUInt32LE(at);
        strings.push(raw.subarray(at + 4, at + 4 + n).toString('utf8'));
        at += 4 + n;
      }
      expectSameTop3(strings.map(parse));

      // The typed form, contents.bytes_contents, carries the same file.
      const typed = await client.call<Record<string, any>>('ModelInfer', {
        model_name: 'resnet50_pipeline',
        inputs: [{ name: 'IMAGE', datatype: 'BYTES', shape: [1, 1], contents: { bytes_contents: [cat] } }],
        outputs: [{ name: 'OUTPUT_0', parameters: { classification: { int64_param: 3 } } }],
      });
      expect(Buffer.from(typed.raw_output_contents[0])).toEqual(raw);

      const bad = client.call('ModelInfer', {
        model_name: 'resnet50_pipeline',
        inputs: [{ name: 'IMAGE', datatype: 'BYTES', shape: [1, 1] }],
        raw_input_contents: [serializeBytesElements([Buffer.from('not an image at all')])],
      });
      const status = await statusOf(bad);
      expect(status.code).toBe(3);
      expect(status.details).toContain("step 0 (model 'resnet50_preprocess')");
    } finally {
      client.close();
    }
  });

  it('a file that is no image is a 400 naming the step, the element and the model; the server stays ready', async () => {
    const data = serializeBytesElements([Buffer.from('GIF89a but not really')]);
    const { headers, body } = binaryRequest({ inputs: [{ name: 'IMAGE', shape: [1, 1], datatype: 'BYTES', parameters: { binary_data_size: data.length } }] }, data);
    const res = await post('/v2/models/resnet50_pipeline/infer', headers, body);
    expect(res.status).toBe(400);
    const { error } = JSON.parse(res.body.toString()) as { error: string };
    expect(error).toMatch(/^in ensemble 'resnet50_pipeline', step 0 \(model 'resnet50_preprocess'\): element 0 of input 'IMAGE' for model 'resnet50_preprocess' is not an image ofserve can decode: /);
    // An empty element and a truncated JPEG are refused the same way.
    for (const broken of [Buffer.alloc(0), cat.subarray(0, 200)]) {
      const d = serializeBytesElements([broken]);
      const r = binaryRequest({ inputs: [{ name: 'IMAGE', shape: [1, 1], datatype: 'BYTES', parameters: { binary_data_size: d.length } }] }, d);
      expect((await post('/v2/models/resnet50_pipeline/infer', r.headers, r.body)).status).toBe(400);
    }
    expect((await fetch(`${server.urls.http}/v2/health/ready`)).status).toBe(200);
  });

  it('classify --send-image sends the file and prints the same top 3 as classify on resnet50_oneflow', async () => {
    const viaImage = await classify({ cwd: dir, images: [CAT], model: 'resnet50_pipeline', sendImage: true, url: server.urls.http });
    expectSameTop3(viaImage.images[0].predictions.map((p) => [p.score, p.index, p.label ?? '']));
    const viaTensor = await classify({ cwd: dir, images: [CAT], model: 'resnet50_oneflow', url: server.urls.http });
    expect(viaTensor.images[0].predictions.map((p) => p.index)).toEqual(viaImage.images[0].predictions.map((p) => p.index));
    await expect(classify({ cwd: dir, images: [CAT], model: 'resnet50_oneflow', sendImage: true, url: server.urls.http })).rejects.toMatchObject({ code: 'OFS_NOT_IMAGE_MODEL' });
  });

  it('statistics count the pipeline and each of its steps', () => {
    const stats = server.dataplane.statistics().model_stats;
    const byName = Object.fromEntries(stats.map((s) => [s.name, s]));
    expect(byName.resnet50_pipeline.inference_stats.success.count).toBeGreaterThanOrEqual(4);
    expect(byName.resnet50_preprocess.inference_stats.success.count).toBe(byName.resnet50_pipeline.inference_stats.success.count);
    expect(byName.resnet50_pipeline.inference_stats.fail.count).toBeGreaterThanOrEqual(3);
  });
});
