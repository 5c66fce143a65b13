import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { isOfsError } from '../../../../src/errors.js';
import type { Session } from '../../../../src/core/backend.js';
import { parsePbtxt } from '../../../../src/core/config/pbtxt-parse.js';
import { builtinSource } from '../../../../src/core/repository/served.js';
import { serializeBytesElements } from '../../../../src/core/tensor/bytes.js';
import type { Tensor } from '../../../../src/core/tensor/tensor.js';
import { floatToHalf } from '../../../../src/image/pixels.js';
import { loadImageTensor } from '../../../../src/image/preprocess.js';
import { ImagePreprocessBackend } from '../../../../src/runtime/image/backend.js';
import { imageFrom, tempImageDir } from '../../../fixtures/images.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempImageDir()));
afterAll(() => cleanup());

const backend = new ImagePreprocessBackend();
const param = (k: string, v: string) => `parameters { key: "${k}" value { string_value: "${v}" } }`;

async function session(output: string, params = '', maxBatch = 8): Promise<Session> {
  const config = parsePbtxt(
    `name: "pre" backend: "image_preprocess" max_batch_size: ${maxBatch}
     input [ { name: "IMAGE" data_type: TYPE_STRING dims: [ 1 ] } ]
     output [ ${output} ] ${params}`,
    'pre/config.pbtxt',
  );
  const source = builtinSource('pre', '1', config);
  if (!source) throw new Error('not a built-in backend');
  return backend.createSession(source, { device: 'cpu' });
}

const images = (...files: Uint8Array[]): Tensor => ({ name: 'IMAGE', datatype: 'BYTES', shape: [files.length, 1], data: serializeBytesElements(files) });
const floats = (t: Tensor) => new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));

/** A real 1 × 1 PNG whose IHDR is patched to claim width × height (CRC fixed): a decompression bomb. */
async function claimedPng(width: number, height: number): Promise<Uint8Array> {
  const png = Buffer.from(await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png().toBuffer());
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  let c = 0xffffffff;
  for (const x of png.subarray(12, 29)) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  png.writeUInt32BE((c ^ 0xffffffff) >>> 0, 29);
  return png;
}

describe('image_preprocess sessions', () => {
  it("FP32 NCHW squash gives exactly classify's tensor, per image of the batch", async () => {
    await imageFrom(join(dir, 'grad.png'), 37, 23, (x, y) => [x * 6, y * 10, 128]);
    await imageFrom(join(dir, 'other.jpg'), 50, 50, (x, y) => [(x * y) % 256, 30, 200], 'jpeg');
    const [a, b] = await Promise.all([readFile(join(dir, 'grad.png')), readFile(join(dir, 'other.jpg'))]);
    const s = await session(`{ name: "PIXELS" data_type: TYPE_FP32 dims: [ 3, 16, 12 ] }`);
    const [out] = await s.run([images(a, b)]);
    expect(out).toMatchObject({ name: 'PIXELS', datatype: 'FP32', shape: [2, 3, 16, 12] });
    const want = [
      await loadImageTensor(join(dir, 'grad.png'), { width: 12, height: 16, layout: 'NCHW', scale: 'unit' }),
      await loadImageTensor(join(dir, 'other.jpg'), { width: 12, height: 16, layout: 'NCHW', scale: 'unit' }),
    ];
    expect(Array.from(floats(out))).toEqual([...want[0], ...want[1]]);
  });

  it('center-crop resizes the shorter side, then takes the centre', async () => {
    // 8 × 4: column x has red 10·x. resize_size 4 keeps the size; the 4 × 4 centre is columns 2…5.
    await imageFrom(join(dir, 'cols.png'), 8, 4, (x) => [10 * x, 0, 0]);
    const s = await session(`{ name: "P" data_type: TYPE_UINT8 dims: [ 4, 4, 3 ] }`, `${param('resize', 'center-crop')} ${param('resize_size', '4')}`);
    const [out] = await s.run([images(await readFile(join(dir, 'cols.png')))]);
    expect(out).toMatchObject({ datatype: 'UINT8', shape: [1, 4, 4, 3] });
    expect(Array.from(out.data.subarray(0, 12))).toEqual([20, 0, 0, 30, 0, 0, 40, 0, 0, 50, 0, 0]);
  });

  it('FP16 output holds the FP32 values as halves; BGR, mean and std apply', async () => {
    const file = await readFile(join(dir, 'grad.png'));
    const params = `${param('mean', '0.5,0.5,0.5')} ${param('std', '0.5,0.25,0.5')} ${param('color_order', 'BGR')}`;
    const [f32] = await (await session(`{ name: "P" data_type: TYPE_FP32 dims: [ 8, 8, 3 ] }`, params)).run([images(file)]);
    const [f16] = await (await session(`{ name: "P" data_type: TYPE_FP16 dims: [ 8, 8, 3 ] }`, params)).run([images(file)]);
    const want = Array.from(floats(f32), floatToHalf);
    expect(Array.from(new Uint16Array(f16.data.buffer.slice(f16.data.byteOffset, f16.data.byteOffset + f16.data.byteLength)))).toEqual(want);
    // Blue (128) comes first in BGR: (128/255 − 0.5) / 0.5.
    expect(floats(f32)[0]).toBeCloseTo((128 / 255 - 0.5) / 0.5, 6);
  });

  it('a model without batching takes one image and writes the declared dims', async () => {
    const s = await session(`{ name: "P" data_type: TYPE_FP32 dims: [ 1, 3, 4, 4 ] }`, '', 0);
    const [out] = await s.run([{ ...images(await readFile(join(dir, 'grad.png'))), shape: [1] }]);
    expect(out.shape).toEqual([1, 3, 4, 4]);
  });

  it('names the element that is not an image: garbage, empty, truncated, or a header claiming too many pixels', async () => {
    const s = await session(`{ name: "P" data_type: TYPE_FP32 dims: [ 3, 8, 8 ] }`);
    const good = await readFile(join(dir, 'other.jpg'));
    const huge = await claimedPng(100_000, 100_000);
    expect((await sharp(huge, { limitInputPixels: false }).metadata()).width).toBe(100_000);
    for (const [bad, why] of [
      [Buffer.from('definitely not an image'), /unsupported image format/],
      [new Uint8Array(0), /the data is empty/],
      [good.subarray(0, 100), /./],
      [huge, /more than the limit of \d+ pixels/],
    ] as const) {
      const error = await s.run([images(good, bad)]).catch((e: unknown) => e);
      expect(isOfsError(error) && error.code).toBe('OFS_INFER_IMAGE');
      expect((error as Error).message).toMatch(/^element 1 of input 'IMAGE' for model 'pre' is not an image ofserve can decode: /);
      expect((error as Error).message).toMatch(why);
    }
  });

  it('refuses a config it cannot run, with the problems', async () => {
    const error = await session(`{ name: "P" data_type: TYPE_FP32 dims: [ 3, -1, 8 ] }`).catch((e: unknown) => e);
    expect(isOfsError(error) && error.code).toBe('OFS_SESSION_CREATE_FAILED');
    expect((error as Error).message).toContain('output[0].dims');
  });
});
