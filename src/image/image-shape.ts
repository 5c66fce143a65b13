import { ofsError } from '../errors.js';
import { dtypeFromConfig } from '../core/tensor/dtype.js';
import type { ModelConfig } from '../core/config/model-config.js';
import type { V2ModelMetadata as ModelMetadata } from '../protocol/v2-types.js';
import type { ImageLayout } from './pixels.js';

/** What classify needs to know about a model's image input. */
export interface ImageInputShape {
  readonly inputName: string;
  /** Wire datatype of the input (classify sends FP32). */
  readonly datatype: string;
  readonly width: number;
  readonly height: number;
  readonly layout: ImageLayout;
  /** The three image dims in layout order: [3,H,W] or [H,W,3]. */
  readonly imageDims: readonly number[];
  /**
   * True when the declared shape has a fourth, leading dim besides any batch dim Triton adds
   * (e.g. ONNX [1,3,224,224] with max_batch_size 0, or metadata's [-1,3,H,W]).
   */
  readonly leadingDim: boolean;
  /** Where width and height came from: the model's fixed dims, --size, or DEFAULT_IMAGE_SIZE. */
  readonly sizeFrom: 'model' | 'option' | 'default';
}

/** Used when the model leaves H or W variable (-1) and no size is given: the ImageNet classifiers' size. */
export const DEFAULT_IMAGE_SIZE = 224;

/** Largest photo decoded by default: sharp's own default limit (0x3FFF × 0x3FFF). */
export const DEFAULT_MAX_INPUT_PIXELS = 0x3fff * 0x3fff;

export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

/** `--size HxW` (or a single N for N×N) → { width, height }. */
export function parseImageSize(text: string): ImageSize {
  const m = /^\s*(\d+)\s*(?:[xX×]\s*(\d+)\s*)?$/.exec(text);
  const height = m ? Number(m[1]) : NaN;
  const width = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(height > 0 && width > 0 && Number.isSafeInteger(height) && Number.isSafeInteger(width))) {
    throw ofsError('OFS_BAD_ARGUMENT', `--size must be HxW in pixels, such as 224x224 or 320x480, got '${text}'`);
  }
  return { width, height };
}

/**
 * Reads the image size and layout from model metadata (`inputs[0].shape`, which starts with -1 when
 * the model batches) or from a model config (`input[0].dims`, without the batch dim, and `format`).
 * The layout is NCHW when the channel dim of 3 comes first, NHWC when it comes last; a config's
 * FORMAT_NCHW/FORMAT_NHWC wins when given. Variable H and W take `size`, else DEFAULT_IMAGE_SIZE; a
 * `size` that contradicts a fixed dim is refused rather than silently ignored.
 */
export function inferImageShape(source: ModelMetadata | ModelConfig, model?: string, size?: ImageSize): ImageInputShape {
  const name = model ?? (typeof source.name === 'string' ? source.name : '?');
  const fail = (what: string) => ofsError('OFS_NOT_IMAGE_MODEL', name, what);

  let inputName: string;
  let datatype: string;
  let dims: number[];
  let format: string | undefined;
  if (isMetadata(source)) {
    if (source.inputs.length !== 1) throw fail(`it has ${source.inputs.length} inputs, classify feeds exactly one`);
    const input = source.inputs[0];
    inputName = input.name;
    datatype = input.datatype;
    dims = [...input.shape];
  } else {
    const inputs = source.input ?? [];
    if (inputs.length !== 1) throw fail(`it has ${inputs.length} inputs, classify feeds exactly one`);
    const input = inputs[0];
    inputName = input.name ?? '?';
    datatype = dtypeFromConfig(input.data_type ?? '')?.wire ?? String(input.data_type);
    dims = [...(input.dims ?? [])];
    format = input.format;
  }

  const described = `input '${inputName}' has shape [${dims.join(',')}]`;
  const leadingDim = dims.length === 4;
  const image = leadingDim ? dims.slice(1) : dims;
  if (image.length !== 3) throw fail(`${described}; expected [3,H,W] (NCHW) or [H,W,3] (NHWC)`);

  let layout: ImageLayout;
  if (format === 'FORMAT_NCHW') layout = 'NCHW';
  else if (format === 'FORMAT_NHWC') layout = 'NHWC';
  else if (image[0] === 3) layout = 'NCHW';
  else if (image[2] === 3) layout = 'NHWC';
  else throw fail(`${described}; expected 3 channels first [3,H,W] or last [H,W,3]`);

  const [c, h, w] = layout === 'NCHW' ? image : [image[2], image[0], image[1]];
  if (c !== 3) throw fail(`${described}; ${layout} needs 3 channels`);
  if (size && ((h > 0 && h !== size.height) || (w > 0 && w !== size.width))) {
    throw ofsError(
      'OFS_BAD_ARGUMENT',
      `--size ${size.height}x${size.width} contradicts model '${name}', whose ${described} fixes ${h > 0 ? `H=${h}` : ''}${h > 0 && w > 0 ? ' and ' : ''}${w > 0 ? `W=${w}` : ''}; --size is for models with a variable (-1) height or width`,
    );
  }
  const variable = h <= 0 || w <= 0;
  const height = h > 0 ? h : (size?.height ?? DEFAULT_IMAGE_SIZE);
  const width = w > 0 ? w : (size?.width ?? DEFAULT_IMAGE_SIZE);
  const imageDims = layout === 'NCHW' ? [3, height, width] : [height, width, 3];
  const sizeFrom = !variable ? 'model' : size ? 'option' : 'default';
  return { inputName, datatype, width, height, layout, imageDims, leadingDim, sizeFrom };
}

function isMetadata(source: ModelMetadata | ModelConfig): source is ModelMetadata {
  return Array.isArray((source as ModelMetadata).inputs);
}
