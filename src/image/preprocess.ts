import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import { isOfsError, ofsError } from '../errors.js';
import { DEFAULT_MAX_INPUT_PIXELS } from './image-shape.js';
import { centreCrop, rgbToTensor, type ImageLayout, type Normalization } from './pixels.js';

/** Largest model input ofserve resizes to (8192 × 8192): 768 MiB of FP32 RGB. */
export const MAX_IMAGE_PIXELS = 8192 * 8192;
/**
 * Largest image ofserve decodes (width × height), sharp's own default made explicit: a few-KB PNG can
 * claim 100000 × 100000 pixels, and is refused from its header before any pixel is decoded.
 */
export const MAX_INPUT_PIXELS = 0x3fff * 0x3fff;

/**
 * How a photo becomes width × height: 'squash' stretches it, ignoring the aspect ratio (the reference
 * client's PIL resize); 'center-crop' keeps the aspect ratio, scales the shorter side to fit and cuts
 * the centre out of the longer one.
 */
export type ResizeMode = 'squash' | 'center-crop';
export const RESIZE_MODES: readonly ResizeMode[] = ['squash', 'center-crop'];

/** The image backend's form of a resize: center-crop carries its own resize size. */

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
 * How an image becomes width × height: `squash` resizes to exactly that, ignoring aspect ratio (the
 * reference client's PIL resize, LANCZOS); `center-crop` resizes the shorter side to `resizeSize`
 * keeping the aspect ratio, then takes the centre width × height (torchvision's Resize + CenterCrop).
 */
export type ResizeSpec = { readonly kind: 'squash' } | { readonly kind: 'center-crop'; readonly resizeSize: number };

/** Checks an output size against MAX_IMAGE_PIXELS; throws OFS_BAD_ARGUMENT. */
export function checkOutputSize(width: number, height: number): void {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw ofsError('OFS_BAD_ARGUMENT', `image size must be positive integers, got ${width}x${height}`);
  }
  // The size comes from model metadata (a server's answer): 100000x100000 would need 120 GB of floats.
  if (width * height > MAX_IMAGE_PIXELS) {
    throw ofsError(
      'OFS_BAD_ARGUMENT',
      `image size ${width}x${height} is larger than ${MAX_IMAGE_PIXELS} pixels; classifier inputs are a few hundred pixels a side`,
    );
  }
}

/**
 * Decodes an encoded image (JPEG, PNG, WebP, …) to interleaved 8-bit RGB of width × height. sharp
 * decodes and resizes on libuv's worker threads, never on the event loop. Alpha is dropped without
 * compositing and greyscale expanded (PIL's convert('RGB') does the same). Anything sharp cannot
 * decode throws OFS_IMAGE_UNREADABLE naming `label`.
 */
export async function decodeRgb(
  source: string | Uint8Array,
  label: string,
  width: number,
  height: number,
  resize: ResizeSpec = { kind: 'squash' },
  maxInputPixels: number = MAX_INPUT_PIXELS,
): Promise<Uint8Array> {
  checkOutputSize(width, height);
  if (typeof source !== 'string' && source.byteLength === 0) throw ofsError('OFS_IMAGE_UNREADABLE', label, 'the data is empty');
  if (!(Number.isSafeInteger(maxInputPixels) && maxInputPixels >= 0)) {
    throw ofsError('OFS_BAD_ARGUMENT', `the image pixel limit must be a whole number ≥ 0, got ${maxInputPixels}`);
  }
  try {
    const image = sharp(source, { limitInputPixels: maxInputPixels === 0 ? false : maxInputPixels }).removeAlpha().toColorspace('srgb');
    if (resize.kind === 'squash') {
      const { data, info } = await image.resize(width, height, { fit: 'fill' }).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels instead of RGB`);
      return data;
    }
    const side = resize.resizeSize;
    const { data, info } = await image.resize(side, side, { fit: 'outside' }).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels instead of RGB`);
    if (info.width < width || info.height < height) {
      throw new Error(`resized to ${info.width}x${info.height}, smaller than the ${width}x${height} crop`);
    }
    return centreCrop(data, info.width, info.height, width, height);
  } catch (e) {
    if (isOfsError(e)) throw e;
    if (/pixel limit/i.test(firstLine(e))) {
      // Only the header is read, to say how large the photo is.
      const { width: w, height: h } = await sharp(source, { limitInputPixels: false })
        .metadata()
        .catch(() => ({ width: undefined, height: undefined }));
      if (w && h) throw ofsError('OFS_IMAGE_TOO_LARGE', label, w, h, maxInputPixels);
    }
    throw ofsError('OFS_IMAGE_UNREADABLE', label, firstLine(e));
  }
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
  checkOutputSize(options.width, options.height);
  if (typeof source === 'string') await checkImageFile(source);
  // 'cover' of the output size: scale the shorter side to fit, cut the centre out of the longer one.
  const spec: ResizeSpec =
    (options.resize ?? 'squash') === 'squash' ? { kind: 'squash' } : { kind: 'center-crop', resizeSize: Math.max(options.width, options.height) };
  const rgb = await decodeRgb(source, label, options.width, options.height, spec, options.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS);
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
