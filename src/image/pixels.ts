/**
 * Pure pixel math: interleaved 8-bit RGB (what sharp's `.raw()` gives) → float32 model input in the
 * requested layout and normalization. Kept apart from decoding so the numbers can be tested exactly.
 */

export type ImageLayout = 'NCHW' | 'NHWC';
export type Normalization = 'unit' | 'imagenet';

/** torchvision's ImageNet statistics, per RGB channel, for inputs already scaled to [0,1]. */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];

export function rgbToTensor(
  rgb: Uint8Array,
  width: number,
  height: number,
  layout: ImageLayout,
  normalization: Normalization,
): Float32Array {
  const plane = width * height;
  if (rgb.length !== plane * 3) throw new Error(`expected ${plane * 3} RGB bytes for ${width}x${height}, got ${rgb.length}`);
  const out = new Float32Array(plane * 3);
  const mean = normalization === 'imagenet' ? IMAGENET_MEAN : [0, 0, 0];
  const std = normalization === 'imagenet' ? IMAGENET_STD : [1, 1, 1];
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const value = (rgb[p * 3 + c] / 255 - mean[c]) / std[c];
      out[layout === 'NCHW' ? c * plane + p : p * 3 + c] = value;
    }
  }
  return out;
}
