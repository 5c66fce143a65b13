/**
 * Hostile images and sizes: garbage, truncated and mutated image bytes become OFS_IMAGE_UNREADABLE
 * naming the source; a requested size that is not a sane integer is refused before anything is
 * decoded or allocated.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadImageTensor, type PreprocessOptions } from '../../../src/image/preprocess.js';
import { expectOfsOrSuccess, memoryInUse, mutate, prng } from '../../fixtures/hostile.js';
import { catJpg } from '../../fixtures/images.js';

const OPTIONS: PreprocessOptions = { width: 32, height: 32, layout: 'NCHW', scale: 'unit' };

describe('hostile images', () => {
  it('fuzz: 60 truncations and mutations of a JPEG decode or fail as unreadable', async () => {
    const jpeg = readFileSync(catJpg);
    const rnd = prng(5);
    for (let i = 0; i < 60; i++) {
      const bytes = i < 20 ? jpeg.subarray(0, Math.floor(rnd() * jpeg.length)) : mutate(jpeg, rnd);
      const e = await expectOfsOrSuccess(() => loadImageTensor(bytes, OPTIONS), `case ${i}`);
      if (e) expect(e.message).toMatch(/cannot read image <buffer>/);
    }
  });

  it('refuses garbage bytes', async () => {
    for (const bytes of [Uint8Array.from([0xff, 0xd8, 0xff]), new TextEncoder().encode('GIF89a'), new Uint8Array(100)]) {
      const e = await expectOfsOrSuccess(() => loadImageTensor(bytes, OPTIONS), 'garbage');
      expect(e?.message).toMatch(/cannot read image/);
    }
  });

  it('refuses sizes that are not positive integers or would allocate gigabytes, before decoding', async () => {
    const jpeg = readFileSync(catJpg);
    const before = memoryInUse();
    for (const [width, height] of [[2 ** 31, 2 ** 31], [100_000, 100_000], [224.5, 224], [Number.NaN, 224], [224, -1], [Infinity, 1]]) {
      const e = await expectOfsOrSuccess(() => loadImageTensor(jpeg, { ...OPTIONS, width, height }), `${width}x${height}`);
      expect(e?.code, `${width}x${height}`).toBe('OFS_BAD_ARGUMENT');
      expect(e?.message).toMatch(/image size/);
    }
    expect(memoryInUse() - before).toBeLessThan(64 * 1024 * 1024);
  });
});
