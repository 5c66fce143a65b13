import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify } from '../../../src/commands/classify.js';
import type { ModelConfig } from '../../../src/core/config/model-config.js';
import type { Tensor } from '../../../src/core/tensor/tensor.js';
import type { OfsError } from '../../../src/errors.js';
import { f32, fakeModel, readF32, sumModel, type FakeModel } from '../../fixtures/fake-models.js';
import { startGrpcServer, type RunningGrpcServer } from '../../fixtures/grpc-server.js';
import { imageFrom, solidImage, tempImageDir } from '../../fixtures/images.js';

/**
 * classify against the real gRPC endpoint serving fake models: which model and which output it uses
 * without being told, the size it picks for variable H/W, the resize modes and the photo pixel limit.
 */

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempImageDir());
  await solidImage(join(dir, 'red.png'), { r: 255, g: 0, b: 0 }, 20, 20);
  // Thirds: red | green | blue, 30 wide, 10 high.
  await imageFrom(join(dir, 'thirds.png'), 30, 10, (x) => (x < 10 ? [255, 0, 0] : x < 20 ? [0, 255, 0] : [0, 0, 255]));
});
afterAll(() => cleanup());

/** Channel means of each image in the batch: scores [N,3]. */
function channelMeans(input: Tensor): number[] {
  const [n, , h, w] = input.shape;
  const px = readF32(input);
  const plane = h * w;
  const scores: number[] = [];
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let i = 0; i < plane; i++) sum += px[(r * 3 + c) * plane + i];
      scores.push(sum / plane + c / 1000);
    }
  }
  return scores;
}

interface ImageModelOptions {
  name: string;
  dims?: number[];
  /** Adds an unlabelled 'embedding' output [4] before 'logits'. */
  embedding?: boolean;
  labelled?: boolean;
  isDefault?: boolean;
  seen?: number[][];
}

function imageModel(o: ImageModelOptions): FakeModel {
  const outputs = [
    ...(o.embedding ? [{ name: 'embedding', dtype: 'FP32' as const, shape: [4] }] : []),
    { name: 'logits', dtype: 'FP32' as const, shape: [3] },
  ];
  const model = fakeModel({
    name: o.name,
    maxBatchSize: 4,
    inputs: [{ name: 'image', dtype: 'FP32', shape: o.dims ?? [3, 4, 4] }],
    outputs,
    labels: o.labelled === false ? {} : { logits: ['red', 'green', 'blue'] },
    compute: (inputs) => {
      const input = inputs[0] as Tensor;
      o.seen?.push([...input.shape]);
      const n = input.shape[0];
      const logits = f32('logits', [n, 3], channelMeans(input));
      // The embedding's largest entries are at indices 3, 2: wrong as classes, on purpose.
      const embedding = f32('embedding', [n, 4], Array.from({ length: n }, () => [0, 1, 2, 3]).flat());
      return o.embedding ? [embedding, logits] : [logits];
    },
  });
  // The config as the server reports it: label_filename on the labelled output, and the marker.
  const config: ModelConfig = {
    ...model.config,
    output: model.config.output?.map((out) => (out.name === 'logits' && o.labelled !== false ? { ...out, label_filename: 'labels.txt' } : out)),
    ...(o.isDefault ? { parameters: { ofserve_classify_default: { string_value: 'true' } } } : {}),
  };
  return { ...model, config };
}

async function withServer<T>(models: FakeModel[], f: (server: RunningGrpcServer) => Promise<T>): Promise<T> {
  const server = await startGrpcServer(...models);
  try {
    return await f(server);
  } finally {
    await server.close();
  }
}

const run = (server: RunningGrpcServer, images: string[], extra: Record<string, unknown> = {}) =>
  classify({ images, url: server.url, protocol: 'grpc', cwd: dir, top: 1, ...extra });

describe('classify: which output', () => {
  it('classifies the labelled output, not the first one, and --output picks another', async () => {
    await withServer([imageModel({ name: 'two_heads', embedding: true })], async (server) => {
      const result = await run(server, ['red.png']);
      expect(result.output).toBe('logits');
      expect(result.images[0].predictions[0]).toMatchObject({ index: 0, label: 'red' });
      const raw = await run(server, ['red.png'], { output: 'embedding' });
      expect(raw.output).toBe('embedding');
      expect(raw.images[0].predictions[0]).toEqual({ rank: 1, score: 3, index: 3 });
    });
  });

  it('stops and lists the outputs when none is labelled and two look like class scores', async () => {
    await withServer([imageModel({ name: 'unlabelled', embedding: true, labelled: false })], async (server) => {
      const e = (await run(server, ['red.png']).catch((x: unknown) => x)) as OfsError;
      expect(e.code).toBe('OFS_OUTPUT_CHOICE');
      expect(e.message).toContain('its outputs are embedding FP32 [4], logits FP32 [3]');
    });
  });
});

describe('classify: which model, without -m', () => {
  it("uses the repository's marked default among several image classifiers, and says so", async () => {
    await withServer([imageModel({ name: 'aaa_first' }), imageModel({ name: 'zzz_default', isDefault: true })], async (server) => {
      const result = await run(server, ['red.png']);
      expect(result.model).toBe('zzz_default');
      expect(result.notes.join('\n')).toContain("using model 'zzz_default', the repository's default for classify (of aaa_first, zzz_default)");
    });
  });

  it('asks for -m, listing the candidates, when several classify and none is marked', async () => {
    await withServer([imageModel({ name: 'a' }), imageModel({ name: 'b' })], async (server) => {
      const e = (await run(server, ['red.png']).catch((x: unknown) => x)) as OfsError;
      expect(e.code).toBe('OFS_MODEL_CHOICE');
      expect(e.message).toContain('2 models can classify images: a, b');
    });
  });

  it('skips models that do not take an image, and says which one it used', async () => {
    await withServer([sumModel({ name: 'adder' }), imageModel({ name: 'zz_classifier' })], async (server) => {
      const result = await run(server, ['red.png']);
      expect(result.model).toBe('zz_classifier');
      expect(result.notes[0]).toContain('the only READY model that classifies images (not adder)');
    });
  });
});

describe('classify: variable size and resizing', () => {
  it('uses 224x224 for a variable H and W and says so; --size overrides it', async () => {
    const seen: number[][] = [];
    await withServer([imageModel({ name: 'any_size', dims: [3, -1, -1], seen })], async (server) => {
      const byDefault = await run(server, ['red.png']);
      expect(seen.at(-1)).toEqual([1, 3, 224, 224]);
      expect(byDefault).toMatchObject({ size: '224x224', size_from: 'default' });
      expect(byDefault.notes.join('\n')).toContain('resizing to 224x224, the default; pass --size HxW');
      const sized = await run(server, ['red.png'], { size: '16x8' });
      expect(seen.at(-1)).toEqual([1, 3, 16, 8]);
      expect(sized).toMatchObject({ size: '16x8', size_from: 'option' });
      expect(sized.images[0].predictions[0].label).toBe('red');
    });
  });

  it('refuses a --size that contradicts fixed dims, and a malformed one', async () => {
    await withServer([imageModel({ name: 'fixed' })], async (server) => {
      const e = (await run(server, ['red.png'], { size: '8x8' }).catch((x: unknown) => x)) as OfsError;
      expect(e.code).toBe('OFS_BAD_ARGUMENT');
      expect(e.message).toContain('--size 8x8 contradicts model');
      const bad = (await run(server, ['red.png'], { size: 'big' }).catch((x: unknown) => x)) as OfsError;
      expect(bad.message).toContain("--size must be HxW in pixels, such as 224x224 or 320x480, got 'big'");
    });
  });

  it('squash keeps all three thirds of a wide photo; center-crop keeps only the middle one', async () => {
    await withServer([imageModel({ name: 'fixed' })], async (server) => {
      const squash = await classify({ images: ['thirds.png'], url: server.url, protocol: 'grpc', cwd: dir, top: 3 });
      expect(squash.resize).toBe('squash');
      // Each channel covers about a third of the squashed image.
      for (const p of squash.images[0].predictions) expect(p.score).toBeGreaterThan(0.2);
      const crop = await classify({ images: ['thirds.png'], url: server.url, protocol: 'grpc', cwd: dir, top: 3, resize: 'center-crop' });
      expect(crop.resize).toBe('center-crop');
      expect(crop.images[0].predictions[0]).toMatchObject({ label: 'green' });
      expect(crop.images[0].predictions[0].score).toBeGreaterThan(0.95);
      expect(crop.images[0].predictions[1].score).toBeLessThan(0.05);
    });
  });

  it('names the photo pixel limit and how to raise it', async () => {
    await withServer([imageModel({ name: 'fixed' })], async (server) => {
      const e = (await run(server, ['red.png'], { maxImagePixels: 100 }).catch((x: unknown) => x)) as OfsError;
      expect(e.code).toBe('OFS_IMAGE_TOO_LARGE');
      expect(e.message).toBe(`image ${join(dir, 'red.png')} is 20x20 = 400 pixels, more than the limit of 100 pixels`);
      expect(e.fix).toContain('--max-image-pixels N');
      const ok = await run(server, ['red.png'], { maxImagePixels: 0 });
      expect(ok.images[0].predictions[0].label).toBe('red');
    });
  });
});
