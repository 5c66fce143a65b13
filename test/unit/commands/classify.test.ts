import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classify, formatClassifyTable, parseClassification } from '../../../src/commands/classify.js';
import { stripAnsi } from '../../../src/commands/print.js';
import type { OfsError } from '../../../src/errors.js';
import type { Tensor } from '../../../src/core/tensor/tensor.js';
import { f32, fakeModel, readF32 } from '../../fixtures/fake-models.js';
import { startGrpcServer } from '../../fixtures/grpc-server.js';
import { solidImage, tempImageDir } from '../../fixtures/images.js';
import { fakeClassifier, jsonReply, parseInferRequest, startFakeServer, type FakeServer } from '../client/fake-triton.js';

let dir: string;
let cleanup: () => Promise<void>;
let server: FakeServer | undefined;
beforeAll(async () => {
  ({ dir, cleanup } = await tempImageDir());
  await solidImage(join(dir, 'red.png'), { r: 255, g: 0, b: 0 }, 10, 20);
  await solidImage(join(dir, 'green.png'), { r: 0, g: 255, b: 0 }, 8, 8);
  await solidImage(join(dir, 'blue.jpg'), { r: 0, g: 0, b: 255 }, 16, 12, 'jpeg');
});
afterAll(() => cleanup());
afterEach(async () => {
  await server?.close();
  server = undefined;
});

// Classes 0..5; the fake scores class i by the mean of channel i % 3 (+ i/1000 to break ties).
const LABELS = ['red: warm', 'green:leaf:x', 'blue', 'red again', 'green again', ''];

describe('parseClassification', () => {
  it('splits on the first two colons only', () => {
    expect(parseClassification('0.917522:285:n02123045: tabby, tabby cat', 1)).toEqual({
      rank: 1,
      score: 0.917522,
      index: 285,
      label: 'n02123045: tabby, tabby cat',
    });
    expect(parseClassification('-1.250000:3', 2)).toEqual({ rank: 2, score: -1.25, index: 3 });
    expect(parseClassification('43.653156:715:', 1)).toEqual({ rank: 1, score: 43.653156, index: 715, label: '' });
    expect(() => parseClassification('tabby', 1)).toThrow(expect.objectContaining({ code: 'OFS_BAD_RESPONSE' }));
    expect(() => parseClassification('0.5:x:cat', 1)).toThrow(/not "<score>:<index>/);
  });
});

describe('classify', () => {
  it('batches 3 images as 2 + 1 for max_batch_size 2 and maps each row back to its image', async () => {
    server = await startFakeServer(fakeClassifier({ maxBatchSize: 2, labels: LABELS }));
    const result = await classify({ images: ['red.png', 'green.png', join(dir, 'blue.jpg')], top: 2, url: server.url, cwd: dir });

    const infers = server.requests.filter((r) => r.url === '/v2/models/fake/infer').map(parseInferRequest);
    expect(infers.map((r) => r.json.inputs[0].shape)).toEqual([
      [2, 3, 4, 4],
      [1, 3, 4, 4],
    ]);
    expect(infers[0].json.outputs).toEqual([{ name: 'OUTPUT_0', parameters: { classification: 2, binary_data: true } }]);

    expect(result.model).toBe('fake');
    expect(result.version).toBe('1');
    expect(result.images.map((i) => i.image)).toEqual(['red.png', 'green.png', join(dir, 'blue.jpg')]);
    // red: class 3 (1 + 0.003) beats class 0 (1 + 0)
    expect(result.images[0].predictions).toEqual([
      { rank: 1, score: 1.003, index: 3, label: 'red again' },
      { rank: 2, score: 1, index: 0, label: 'red: warm' },
    ]);
    expect(result.images[1].predictions.map((p) => p.label)).toEqual(['green again', 'green:leaf:x']);
    expect(result.images[2].predictions.map((p) => p.index)).toEqual([5, 2]);
    expect(result.images[2].predictions[0].label).toBeUndefined(); // empty label line: no ':label' suffix
    expect(result.images[2].predictions[0].score).toBeCloseTo(1.005, 1); // JPEG blue is close to 255
  });

  it('sends one image per request with no batch dim when max_batch_size is 0', async () => {
    server = await startFakeServer(fakeClassifier({ maxBatchSize: 0, labels: LABELS, name: 'solo' }));
    const result = await classify({ images: ['green.png', 'red.png'], model: 'solo', url: server.url, cwd: dir });
    const infers = server.requests.filter((r) => r.url.endsWith('/infer')).map(parseInferRequest);
    expect(infers.map((r) => r.json.inputs[0].shape)).toEqual([
      [3, 4, 4],
      [3, 4, 4],
    ]);
    expect(result.images.map((i) => i.predictions.length)).toEqual([3, 3]);
    expect(result.images[0].predictions[0].label).toBe('green again');
    expect(result.images[1].predictions[0].label).toBe('red again');
  });

  it('asks for --model when the server lists several models and none is ready', async () => {
    server = await startFakeServer((req) =>
      req.url === '/v2/repository/index'
        ? jsonReply([
            { name: 'a', state: 'UNAVAILABLE' },
            { name: 'b', state: 'LOADING' },
          ])
        : jsonReply({ error: 'Not Found' }, 404),
    );
    const e = await classify({ images: ['red.png'], url: server.url, cwd: dir }).catch((x: OfsError) => x);
    expect((e as OfsError).code).toBe('OFS_MODEL_CHOICE');
    expect((e as OfsError).message).toContain('none of its models is READY: a (UNAVAILABLE), b (LOADING)');
    expect((e as OfsError).fix).toContain('-m NAME');
  });

  it('reports an unreadable image before sending anything for it', async () => {
    server = await startFakeServer(fakeClassifier({ maxBatchSize: 4, labels: LABELS }));
    const e = await classify({ images: ['missing.jpg'], url: server.url, cwd: dir }).catch((x: OfsError) => x);
    expect((e as OfsError).code).toBe('OFS_IMAGE_UNREADABLE');
    expect((e as OfsError).message).toContain(join(dir, 'missing.jpg'));
    expect(server.requests.some((r) => r.url.endsWith('/infer'))).toBe(false);
  });

  it('names a missing image even when no server is running', async () => {
    const e = await classify({ images: ['missing.jpg'], url: '127.0.0.1:1', cwd: dir }).catch((x: OfsError) => x);
    expect((e as OfsError).code).toBe('OFS_IMAGE_UNREADABLE');
    expect((e as OfsError).message).toContain('no such file');
  });

  it('formats one aligned table per image', () => {
    const text = stripAnsi(
      formatClassifyTable({
        url: 'http://localhost:8000',
        model: 'resnet50',
        version: '1',
        output: 'OUTPUT_0',
        size: '224x224',
        size_from: 'model',
        resize: 'squash',
        notes: [],
        images: [
          {
            image: 'cat.jpg',
            predictions: [
              { rank: 1, score: 0.917522, index: 285, label: 'Egyptian cat' },
              { rank: 2, score: 0.05, index: 7, label: 'cock' },
            ],
          },
        ],
      }),
    );
    expect(text).toBe(
      [
        'model resnet50 version 1 at http://localhost:8000',
        '',
        'cat.jpg',
        '  rank     score  class  label',
        '     1  0.917522    285  Egyptian cat',
        '     2  0.050000      7  cock',
      ].join('\n'),
    );
  });
});

describe('classify -i grpc against the gRPC endpoint', () => {
  /** FP32 [3,4,4] images → 3 classes; class c scores the mean of channel c, plus c/1000 to break ties. */
  const colourModel = () =>
    fakeModel({
      name: 'colours',
      maxBatchSize: 2,
      inputs: [{ name: 'INPUT_0', dtype: 'FP32', shape: [3, 4, 4] }],
      outputs: [{ name: 'OUTPUT_0', dtype: 'FP32', shape: [3] }],
      labels: { OUTPUT_0: ['red', 'green', 'blue'] },
      compute: (inputs) => {
        const input = inputs[0] as Tensor;
        const rows = input.shape[0];
        const pixels = readF32(input);
        const scores: number[] = [];
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < 3; c++) {
            const plane = pixels.slice((r * 3 + c) * 16, (r * 3 + c + 1) * 16);
            scores.push(plane.reduce((a, b) => a + b, 0) / 16 + c / 1000);
          }
        }
        return [f32('OUTPUT_0', [rows, 3], scores)];
      },
    });

  it('batches images up to max_batch_size and parses the classification strings', async () => {
    const model = colourModel();
    const grpc = await startGrpcServer(model);
    try {
      const result = await classify({ images: ['red.png', 'green.png', 'blue.jpg'], top: 2, url: grpc.url, protocol: 'grpc', cwd: dir });
      expect(model.sessions[0].runs.map((r) => r.inputs[0].shape)).toEqual([
        [2, 3, 4, 4],
        [1, 3, 4, 4],
      ]);
      expect(result.url).toBe(grpc.url);
      expect(result.model).toBe('colours'); // the only model in the index
      expect(result.version).toBe('1');
      expect(result.images.map((i) => i.predictions[0].label)).toEqual(['red', 'green', 'blue']);
      // red (1,0,0): class 0 scores 1.000; class 2 beats class 1 on the tie-breaker (0.002 > 0.001)
      expect(result.images[0].predictions).toEqual([
        { rank: 1, score: 1, index: 0, label: 'red' },
        { rank: 2, score: 0.002, index: 2, label: 'blue' },
      ]);
    } finally {
      await grpc.close();
    }
  });

  it('reports an unknown model with the server\'s message', async () => {
    const grpc = await startGrpcServer(colourModel());
    try {
      const e = (await classify({ images: ['red.png'], model: 'nope', url: grpc.url, protocol: 'grpc', cwd: dir }).catch((x: unknown) => x)) as OfsError;
      expect(e.code).toBe('OFS_SERVER_ERROR');
      expect(e.message).toContain("Request for unknown model: 'nope' is not found");
    } finally {
      await grpc.close();
    }
  });
});
