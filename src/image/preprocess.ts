import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import { isOfsError, ofsError } from '../errors.js';
import { DEFAULT_MAX_INPUT_PIXELS } from './image-shape.js';
import { rgbToTensor, type ImageLayout, type Normalization } from './pixels.js';

/** Largest model input ofserve resizes to (8192 × 8192): 768 MiB of FP32 RGB. */
export const MAX_IMAGE_PIXELS = 8192 * 8192;

/**
 * How a photo becomes width × height: 'squash' stretches it, ignoring the aspect ratio (the reference
 * client's PIL resize); 'center-crop' keeps the aspect ratio, scales the shorter side to fit and cuts
 * the centre out of the longer one.
 */
export type ResizeMode = 'squash' | 'center-crop';
export const RESIZE_MODES: readonly ResizeMode[] = ['squash', 'center-crop'];

export interface PreprocessOptions {
  readonly width: number;
  readonly height: number;
  /** Only RGB is supported; alpha is dropped and greyscale expanded. */
  readonly channels?: 3;
  readonly layout: ImageLayout;
  /**
   * 'unit': RGB ÷ 255 (the OneFlow-Serving / Triton example client's preprocessing);
   * 'imagenet': then (x − mean) / std with torchvision's ImageNet statistics.
   */
  readonly scale: Normalization;
  /** Default 'squash'. */
  readonly resize?: ResizeMode;
  /** Largest photo (width × height) decoded; 0 for no limit. Default DEFAULT_MAX_INPUT_PIXELS. */
  readonly maxInputPixels?: number;
}

/**
 * Decodes an image file (or encoded bytes) and turns it into one float32 model input of
 * channels × height × width in `layout`. By default, like the reference client, it resizes to exactly
 * width × height ignoring aspect ratio (see ResizeMode), and drops alpha without compositing (PIL's
 * convert('RGB') does the same). A photo over the pixel limit is OFS_IMAGE_TOO_LARGE with its size;
 * anything else sharp cannot decode becomes OFS_IMAGE_UNREADABLE naming the file.
 */
export async function loadImageTensor(source: string | Uint8Array, options: PreprocessOptions): Promise<Float32Array> {
  const label = typeof source === 'string' ? source : '<buffer>';
  if (options.channels !== undefined && options.channels !== 3) {
    throw ofsError('OFS_BAD_ARGUMENT', `images are read as 3-channel RGB, not ${options.channels} channels`);
  }
  if (!(Number.isInteger(options.width) && Number.isInteger(options.height) && options.width > 0 && options.height > 0)) {
    throw ofsError('OFS_BAD_ARGUMENT', `image size must be positive integers, got ${options.width}x${options.height}`);
  }
  // The size comes from model metadata (a server's answer): 100000x100000 would need 120 GB of floats.
  if (options.width * options.height > MAX_IMAGE_PIXELS) {
    throw ofsError(
      'OFS_BAD_ARGUMENT',
      `image size ${options.width}x${options.height} for the model input is larger than ${MAX_IMAGE_PIXELS} pixels (8192x8192), the most classify builds; classifier inputs are a few hundred pixels a side, so pass a smaller --size`,
    );
  }
  if (typeof source === 'string') await checkImageFile(source);
  else if (source.byteLength === 0) throw ofsError('OFS_IMAGE_UNREADABLE', label, 'the data is empty');

  const limit = options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  if (!(Number.isSafeInteger(limit) && limit >= 0)) {
    throw ofsError('OFS_BAD_ARGUMENT', `the image pixel limit must be a whole number ≥ 0, got ${limit}`);
  }
  const fit = (options.resize ?? 'squash') === 'squash' ? 'fill' : 'cover';
  let rgb: Uint8Array;
  try {
    const { data, info } = await sharp(source, { limitInputPixels: limit === 0 ? false : limit })
      .removeAlpha()
      .toColorspace('srgb')
      .resize(options.width, options.height, { fit, position: 'centre' })
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw ofsError('OFS_IMAGE_UNREADABLE', label, `decoded to ${info.channels} channels instead of RGB`);
    rgb = data;
  } catch (e) {
    if (isOfsError(e)) throw e;
    if (/pixel limit/i.test(firstLine(e))) {
      // Only the header is read, to say how large the photo is.
      const { width, height } = await sharp(source, { limitInputPixels: false })
        .metadata()
        .catch(() => ({ width: undefined, height: undefined }));
      if (width && height) throw ofsError('OFS_IMAGE_TOO_LARGE', label, width, height, limit);
    }
    throw ofsError('OFS_IMAGE_UNREADABLE', label, firstLine(e));
  }
  return rgbToTensor(rgb, options.width, options.height, options.layout, options.scale);
}

/** A missing, empty or directory path as OFS_IMAGE_UNREADABLE, before any decoding (or server call). */
export async function checkImageFile(path: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw ofsError('OFS_IMAGE_UNREADABLE', path, code === 'ENOENT' ? 'no such file' : firstLine(e));
  }
  if (info.isDirectory()) throw ofsError('OFS_IMAGE_UNREADABLE', path, 'it is a directory');
  if (info.size === 0) throw ofsError('OFS_IMAGE_UNREADABLE', path, 'the file is empty');
}

function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0].trim() || 'unknown decoding error';
}
