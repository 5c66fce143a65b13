/**
 * Pure pixel math: interleaved 8-bit RGB (what sharp's `.raw()` gives) → model input in the requested
 * layout, channel order and normalization. Kept apart from decoding so the numbers can be tested exactly.
 * The client's preprocessing (classify) and the server's image backend both go through here.
 */

export type ImageLayout = 'NCHW' | 'NHWC';
export type Normalization = 'unit' | 'imagenet';
export type ColourOrder = 'RGB' | 'BGR';

/** torchvision's ImageNet statistics, per RGB channel, for inputs already scaled to [0,1]. */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];

/** value = (pixel × scale − mean[c]) / std[c], channels in `order` (mean and std in that order too). */
export interface PixelTransform {
  readonly layout: ImageLayout;
  readonly scale: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly order: ColourOrder;
}

/** The presets classify offers: ÷255 (the reference client), or ÷255 then ImageNet mean/std. */
export function presetTransform(layout: ImageLayout, normalization: Normalization): PixelTransform {
  const imagenet = normalization === 'imagenet';
  return { layout, scale: 1 / 255, mean: imagenet ? IMAGENET_MEAN : [0, 0, 0], std: imagenet ? IMAGENET_STD : [1, 1, 1], order: 'RGB' };
}

function checkSize(rgb: Uint8Array, width: number, height: number): number {
  const plane = width * height;
  if (rgb.length !== plane * 3) throw new Error(`expected ${plane * 3} RGB bytes for ${width}x${height}, got ${rgb.length}`);
  return plane;
}

export function normalizePixels(rgb: Uint8Array, width: number, height: number, t: PixelTransform, out = new Float32Array(width * height * 3)): Float32Array {
  const plane = checkSize(rgb, width, height);
  const source = t.order === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const value = (rgb[p * 3 + source[c]] * t.scale - t.mean[c]) / t.std[c];
      out[t.layout === 'NCHW' ? c * plane + p : p * 3 + c] = value;
    }
  }
  return out;
}

/** The 8-bit pixels unchanged, in `layout` and channel `order` (UINT8 model inputs). */
export function arrangePixels(rgb: Uint8Array, width: number, height: number, layout: ImageLayout, order: ColourOrder, out = new Uint8Array(width * height * 3)): Uint8Array {
  const plane = checkSize(rgb, width, height);
  const source = order === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[layout === 'NCHW' ? c * plane + p : p * 3 + c] = rgb[p * 3 + source[c]];
  }
  return out;
}

export function rgbToTensor(rgb: Uint8Array, width: number, height: number, layout: ImageLayout, normalization: Normalization): Float32Array {
  return normalizePixels(rgb, width, height, presetTransform(layout, normalization));
}

/** The centre `cropWidth` × `cropHeight` of interleaved RGB (torchvision's CenterCrop offsets). */
export function centreCrop(rgb: Uint8Array, width: number, height: number, cropWidth: number, cropHeight: number): Uint8Array {
  checkSize(rgb, width, height);
  if (cropWidth > width || cropHeight > height) throw new Error(`cannot crop ${cropWidth}x${cropHeight} out of ${width}x${height}`);
  const left = Math.round((width - cropWidth) / 2);
  const top = Math.round((height - cropHeight) / 2);
  const out = new Uint8Array(cropWidth * cropHeight * 3);
  for (let y = 0; y < cropHeight; y++) {
    const from = ((top + y) * width + left) * 3;
    out.set(rgb.subarray(from, from + cropWidth * 3), y * cropWidth * 3);
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of a float, rounded to nearest even (for FP16 model inputs). */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half += 1;
  return sign | half;
}
