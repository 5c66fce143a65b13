import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImageTensor } from '../../../src/image/preprocess.js';
import { isOfsError } from '../../../src/errors.js';
import { bytesFile, catJpg, imageFrom, solidImage, tempImageDir } from '../../fixtures/images.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempImageDir()));
afterAll(() => cleanup());

describe('loadImageTensor numerics', () => {
  it('scales a solid red PNG to unit range in NCHW, whatever the resize', async () => {
    const path = await solidImage(join(dir, 'red.png'), { r: 255, g: 0, b: 0 }, 10, 20);
    const t = await loadImageTensor(path, { width: 4, height: 4, layout: 'NCHW', scale: 'unit' });
    expect(t).toBeInstanceOf(Float32Array);
    expect(t.length).toBe(48);
    expect(Array.from(t.subarray(0, 16))).toEqual(new Array(16).fill(1));
    expect(Array.from(t.subarray(16))).toEqual(new Array(32).fill(0));
  });

  it('applies ImageNet mean/std per channel', async () => {
    // (R,G,B) = (255, 0, 51): unit values 1, 0, 0.2
    const path = await solidImage(join(dir, 'mix.png'), { r: 255, g: 0, b: 51 }, 6, 6);
    const t = await loadImageTensor(path, { width: 2, height: 3, layout: 'NCHW', scale: 'imagenet' });
    const r = (1 - 0.485) / 0.229; // 2.2489083
    const g = (0 - 0.456) / 0.224; // -2.0357143
    const b = (0.2 - 0.406) / 0.225; // -0.9155556
    expect(t.length).toBe(18);
    for (let i = 0; i < 6; i++) {
      expect(t[i]).toBeCloseTo(r, 5);
      expect(t[6 + i]).toBeCloseTo(g, 5);
      expect(t[12 + i]).toBeCloseTo(b, 5);
    }
    expect(r).toBeCloseTo(2.2489, 4);
  });

  it('interleaves channels in NHWC', async () => {
    const path = await solidImage(join(dir, 'nhwc.png'), { r: 0, g: 255, b: 102 }, 3, 3);
    const t = await loadImageTensor(path, { width: 2, height: 2, layout: 'NHWC', scale: 'unit' });
    expect(Array.from(t)).toEqual([0, 1, 0.4, 0, 1, 0.4, 0, 1, 0.4, 0, 1, 0.4].map(Math.fround));
  });

  it('keeps pixel positions: a gradient read at its own size lands where expected', async () => {
    const W = 5;
    const H = 3;
    await imageFrom(join(dir, 'grad.png'), W, H, (x, y) => [x * 50, y * 100, 7]);
    const nchw = await loadImageTensor(join(dir, 'grad.png'), { width: W, height: H, layout: 'NCHW', scale: 'unit' });
    const plane = W * H;
    const at = (c: number, y: number, x: number) => nchw[c * plane + y * W + x];
    expect(at(0, 0, 0)).toBe(0);
    expect(at(0, 2, 4)).toBeCloseTo(200 / 255, 6);
    expect(at(1, 2, 4)).toBeCloseTo(200 / 255, 6);
    expect(at(0, 1, 3)).toBeCloseTo(150 / 255, 6);
    expect(at(1, 1, 3)).toBeCloseTo(100 / 255, 6);
    expect(at(2, 1, 3)).toBeCloseTo(7 / 255, 6);

    const nhwc = await loadImageTensor(join(dir, 'grad.png'), { width: W, height: H, layout: 'NHWC', scale: 'unit' });
    expect(nhwc[(1 * W + 3) * 3 + 0]).toBeCloseTo(150 / 255, 6);
    expect(nhwc[(1 * W + 3) * 3 + 1]).toBeCloseTo(100 / 255, 6);
    expect(nhwc[(2 * W + 4) * 3 + 2]).toBeCloseTo(7 / 255, 6);
  });

  it('keeps a left/right split when downscaling', async () => {
    await imageFrom(join(dir, 'split.png'), 40, 10, (x) => (x < 20 ? [255, 255, 255] : [0, 0, 0]));
    const t = await loadImageTensor(join(dir, 'split.png'), { width: 4, height: 2, layout: 'NCHW', scale: 'unit' });
    // columns 0 and 3 are far from the edge: pure white / pure black
    expect(t[0]).toBeCloseTo(1, 2);
    expect(t[3]).toBeCloseTo(0, 2);
  });

  it('drops alpha and expands greyscale to RGB', async () => {
    const alpha = join(dir, 'alpha.png');
    await (await import('sharp')).default({ create: { width: 3, height: 3, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } })
      .png()
      .toFile(alpha);
    const a = await loadImageTensor(alpha, { width: 1, height: 1, layout: 'NCHW', scale: 'unit' });
    expect(Array.from(a)).toEqual([1, 0, 0]);

    const grey = join(dir, 'grey.png');
    await (await import('sharp')).default(Buffer.alloc(9, 51), { raw: { width: 3, height: 3, channels: 1 } }).png().toFile(grey);
    const g = await loadImageTensor(grey, { width: 1, height: 1, layout: 'NCHW', scale: 'unit' });
    expect(Array.from(g)).toEqual([0.2, 0.2, 0.2].map(Math.fround));
  });

  it('reads encoded bytes as well as paths, and the shared cat photo', async () => {
    const { readFile } = await import('node:fs/promises');
    const t = await loadImageTensor(await readFile(catJpg), { width: 8, height: 8, layout: 'NCHW', scale: 'unit' });
    expect(t.length).toBe(192);
    expect(t.every((v) => v >= 0 && v <= 1)).toBe(true);
    const fromPath = await loadImageTensor(catJpg, { width: 8, height: 8, layout: 'NCHW', scale: 'unit' });
    expect(Array.from(fromPath)).toEqual(Array.from(t));
  });
});

describe('loadImageTensor errors', () => {
  const opts = { width: 4, height: 4, layout: 'NCHW', scale: 'unit' } as const;

  async function unreadable(source: string | Uint8Array) {
    try {
      await loadImageTensor(source, opts);
    } catch (e) {
      expect(isOfsError(e)).toBe(true);
      if (!isOfsError(e)) throw e;
      expect(e.code).toBe('OFS_IMAGE_UNREADABLE');
      expect(e.stack ?? '').not.toMatch(/sharp/);
      return e.message;
    }
    throw new Error('expected loadImageTensor to fail');
  }

  it('names a missing file', async () => {
    const path = join(dir, 'nope.jpg');
    const message = await unreadable(path);
    expect(message).toContain(path);
    expect(message).toContain('no such file');
  });

  it('names a text file posing as a JPEG', async () => {
    const path = await bytesFile(join(dir, 'text.jpg'), 'this is not a picture\n');
    const message = await unreadable(path);
    expect(message).toContain(path);
    expect(message).toMatch(/unsupported image format/);
  });

  it('names an empty file', async () => {
    const path = await bytesFile(join(dir, 'empty.jpg'), '');
    const message = await unreadable(path);
    expect(message).toContain(path);
    expect(message).toContain('empty');
  });

  it('names a directory and a truncated JPEG', async () => {
    expect(await unreadable(dir)).toContain('directory');
    const { readFile } = await import('node:fs/promises');
    const jpeg = await readFile(catJpg);
    const path = await bytesFile(join(dir, 'cut.jpg'), jpeg.subarray(0, 2000));
    expect(await unreadable(path)).toContain(path);
  });

  it('rejects bad buffers too', async () => {
    expect(await unreadable(new Uint8Array(0))).toContain('<buffer>');
    expect(await unreadable(new TextEncoder().encode('hello'))).toContain('<buffer>');
  });
});
