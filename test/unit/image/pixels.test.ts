import { describe, expect, it } from 'vitest';
import { halfToNumber } from '../../../src/core/tensor/half.js';
import { arrangePixels, centreCrop, floatToHalf, normalizePixels, presetTransform, rgbToTensor } from '../../../src/image/pixels.js';

// 2 × 1 image: pixel 0 = (10, 20, 30), pixel 1 = (40, 50, 60).
const rgb = Uint8Array.from([10, 20, 30, 40, 50, 60]);

describe('pixel transforms', () => {
  it('scales, subtracts the mean and divides by std per channel, in NCHW and NHWC', () => {
    const t = { layout: 'NCHW' as const, scale: 1, mean: [10, 20, 30], std: [1, 2, 3], order: 'RGB' as const };
    expect(Array.from(normalizePixels(rgb, 2, 1, t))).toEqual([0, 30, 0, 15, 0, 10]);
    expect(Array.from(normalizePixels(rgb, 2, 1, { ...t, layout: 'NHWC' }))).toEqual([0, 0, 0, 30, 15, 10]);
  });

  it('BGR swaps the channels before mean and std apply (they are given in BGR order then)', () => {
    const t = { layout: 'NHWC' as const, scale: 1, mean: [0, 0, 0], std: [1, 1, 1], order: 'BGR' as const };
    expect(Array.from(normalizePixels(rgb, 2, 1, t))).toEqual([30, 20, 10, 60, 50, 40]);
    expect(Array.from(arrangePixels(rgb, 2, 1, 'NCHW', 'BGR'))).toEqual([30, 60, 20, 50, 10, 40]);
    expect(Array.from(arrangePixels(rgb, 2, 1, 'NHWC', 'RGB'))).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it("the classify presets are the same numbers as before: ÷255, then ImageNet's mean/std", () => {
    expect(Array.from(rgbToTensor(rgb, 2, 1, 'NCHW', 'unit'))).toEqual(Array.from(Float32Array.from([10, 40, 20, 50, 30, 60].map((v) => v / 255))));
    const imagenet = presetTransform('NCHW', 'imagenet');
    expect(normalizePixels(rgb, 2, 1, imagenet)[0]).toBeCloseTo((10 / 255 - 0.485) / 0.229, 6);
  });

  it('crops the centre, with torchvision offsets', () => {
    // 4 × 3 image whose red channel is the pixel index.
    const src = new Uint8Array(4 * 3 * 3);
    for (let p = 0; p < 12; p++) src[p * 3] = p;
    const out = centreCrop(src, 4, 3, 2, 1);
    expect([out[0], out[3]]).toEqual([5, 6]);
    expect(() => centreCrop(src, 4, 3, 5, 1)).toThrow('cannot crop');
  });

  it('converts floats to IEEE half with round-to-nearest-even, infinities, NaN and subnormals', () => {
    for (const v of [0, 1, -2, 0.5, 65504, 0.333251953125, 6.103515625e-5, 5.960464477539063e-8]) expect(halfToNumber(floatToHalf(v))).toBe(v);
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(floatToHalf(70000)).toBe(0x7c00);
    expect(floatToHalf(-Infinity)).toBe(0xfc00);
    expect(Number.isNaN(halfToNumber(floatToHalf(Number.NaN)))).toBe(true);
    expect(halfToNumber(floatToHalf(0.1))).toBeCloseTo(0.1, 3);
    expect(floatToHalf(1e-9)).toBe(0);
  });
});
