import { BACKEND_IMAGE } from './constants.js';
import type { ModelConfig } from './model-config.js';
import type { Problem } from '../problem.js';

/**
 * The settings of the built-in `image_preprocess` backend, read from its config.pbtxt: one BYTES input
 * (an encoded image per batch element), one output whose data type, dims and format say what tensor
 * to make, and `parameters` for the rest. Pure: the backend (src/runtime/image/) and `validate` both
 * read the config through here, so what validate accepts is what the backend runs.
 */

export type PixelLayout = 'NCHW' | 'NHWC';
export type ImageOutputType = 'FP32' | 'FP16' | 'UINT8';

export interface ImagePreprocessSettings {
  readonly inputName: string;
  readonly outputName: string;
  readonly outputType: ImageOutputType;
  readonly width: number;
  readonly height: number;
  readonly layout: PixelLayout;
  /** The output's declared dims (without the batch dim): [3,H,W], [H,W,3], or those with a leading 1. */
  readonly outputDims: readonly number[];
  readonly resize: { readonly kind: 'squash' } | { readonly kind: 'center-crop'; readonly resizeSize: number };
  readonly scale: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly order: 'RGB' | 'BGR';
}

/** Parameter keys, with what each takes (for messages and docs). */
export const IMAGE_PARAMETERS: Readonly<Record<string, string>> = {
  resize: '"squash" (default: resize to the output size ignoring aspect ratio, LANCZOS) or "center-crop"',
  resize_size: 'center-crop: the size the shorter side is resized to before the crop (default: the larger output side)',
  layout: '"NCHW" or "NHWC" (default: from the output dims, channels of 3 first or last)',
  scale: 'multiplier applied to 0…255 pixels first, a number or a fraction such as "1/255" (default 1/255)',
  mean: 'per-channel mean subtracted after scaling, "r,g,b" in color_order (default "0,0,0")',
  std: 'per-channel divisor applied last, "r,g,b" in color_order (default "1,1,1")',
  color_order: '"RGB" (default) or "BGR"',
};

/** Largest output image, as for classify's preprocessing (src/image/preprocess.ts MAX_IMAGE_PIXELS). */
const MAX_OUTPUT_PIXELS = 8192 * 8192;

export function isImagePreprocess(config: ModelConfig | undefined): boolean {
  return config?.backend === BACKEND_IMAGE;
}

type Result = { readonly settings?: ImagePreprocessSettings; readonly problems: Problem[] };

/** The settings, or every problem of the config (file and fields named as `file` and config paths). */
export function readImagePreprocess(config: ModelConfig, file: string): Result {
  const problems: Problem[] = [];
  const err = (field: string, message: string, fix: string): void => {
    problems.push({ severity: 'error', file, field, message, fix });
  };
  const params = config.parameters ?? {};
  const param = (key: string): string | undefined => {
    const v = params[key]?.string_value;
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  for (const key of Object.keys(params)) {
    if (!(key in IMAGE_PARAMETERS)) {
      err(`parameters.${key}`, `backend "${BACKEND_IMAGE}" has no parameter '${key}'`, `its parameters are ${Object.keys(IMAGE_PARAMETERS).join(', ')}`);
    }
  }

  const inputs = config.input ?? [];
  if (inputs.length !== 1) {
    err('input', `backend "${BACKEND_IMAGE}" takes exactly one input, the encoded images; the config declares ${inputs.length}`, 'declare input [ { name: "IMAGE" data_type: TYPE_STRING dims: [ 1 ] } ]');
  } else {
    const input = inputs[0];
    if (input.data_type !== 'TYPE_STRING') {
      err('input[0].data_type', `input '${input.name}' is ${input.data_type}; the image backend reads encoded image files, one BYTES element each`, 'set data_type: TYPE_STRING');
    }
    if (!(input.dims?.length === 1 && input.dims[0] === 1)) {
      err('input[0].dims', `input '${input.name}' has dims [${(input.dims ?? []).join(', ')}]; each batch element is one image`, 'set dims: [ 1 ] (and max_batch_size for batches of images)');
    }
  }

  const outputs = config.output ?? [];
  let outputType: ImageOutputType = 'FP32';
  let layout: PixelLayout | undefined;
  let width = 0;
  let height = 0;
  let dims: number[] = [];
  if (outputs.length !== 1) {
    err('output', `backend "${BACKEND_IMAGE}" has exactly one output, the image tensor; the config declares ${outputs.length}`, 'declare output [ { name: "PIXELS" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ]');
  } else {
    const output = outputs[0];
    const type = output.data_type?.replace(/^TYPE_/, '');
    if (type === 'FP32' || type === 'FP16' || type === 'UINT8') outputType = type;
    else err('output[0].data_type', `output '${output.name}' is ${output.data_type}; the image backend writes TYPE_FP32, TYPE_FP16 or TYPE_UINT8`, 'set data_type: TYPE_FP32');
    dims = [...(output.dims ?? [])];
    const leading = dims.length === 4 && dims[0] === 1 && (config.max_batch_size ?? 0) === 0;
    const image = leading ? dims.slice(1) : dims;
    const asked = param('layout')?.toUpperCase();
    if (asked !== undefined && asked !== 'NCHW' && asked !== 'NHWC') {
      err('parameters.layout', `layout '${param('layout')}' is not NCHW or NHWC`, 'set layout to "NCHW" or "NHWC"');
    }
    if (image.length === 3) {
      if (asked === 'NCHW' || asked === 'NHWC') layout = asked;
      else if (image[0] === 3) layout = 'NCHW';
      else if (image[2] === 3) layout = 'NHWC';
    }
    const [c, h, w] = layout === 'NCHW' ? image : layout === 'NHWC' ? [image[2], image[0], image[1]] : [0, 0, 0];
    if (!layout || c !== 3 || !(h > 0 && w > 0)) {
      err(
        'output[0].dims',
        `output '${output.name}' has dims [${dims.join(', ')}]; the image backend writes [3, H, W] (NCHW) or [H, W, 3] (NHWC) with a fixed H and W${(config.max_batch_size ?? 0) > 0 ? '' : ', or those with a leading 1'}`,
        'set dims: [ 3, 224, 224 ] (and layout when the channels are not where the dims say)',
      );
    } else if (h * w > MAX_OUTPUT_PIXELS) {
      err('output[0].dims', `output '${output.name}' is ${w}x${h} pixels, more than ${MAX_OUTPUT_PIXELS}`, 'classifier inputs are a few hundred pixels a side');
    } else {
      width = w;
      height = h;
    }
  }

  const resizeText = (param('resize') ?? 'squash').toLowerCase();
  let resize: ImagePreprocessSettings['resize'] = { kind: 'squash' };
  const resizeSizeText = param('resize_size');
  if (resizeText === 'center-crop') {
    const size = resizeSizeText === undefined ? Math.max(width, height) : Number(resizeSizeText);
    if (!Number.isInteger(size) || size < Math.max(width, height) || size > 8192) {
      err('parameters.resize_size', `resize_size '${resizeSizeText}' must be a whole number of pixels from ${Math.max(width, height)} (the larger output side) to 8192`, 'set resize_size, e.g. "256" for a 224 crop');
    }
    resize = { kind: 'center-crop', resizeSize: size };
  } else if (resizeText !== 'squash') {
    err('parameters.resize', `resize '${param('resize')}' is not "squash" or "center-crop"`, IMAGE_PARAMETERS.resize);
  } else if (resizeSizeText !== undefined) {
    err('parameters.resize_size', 'resize_size only applies to resize "center-crop"', 'remove resize_size, or set resize: "center-crop"');
  }

  const scale = parseScale(param('scale'));
  if (scale === undefined) err('parameters.scale', `scale '${param('scale')}' is not a finite number or fraction`, 'set scale, e.g. "1/255" or "1"');
  const mean = parseTriple(param('mean'), [0, 0, 0]);
  if (!mean) err('parameters.mean', `mean '${param('mean')}' is not three numbers`, 'set mean to "r,g,b", e.g. "0.485,0.456,0.406"');
  const std = parseTriple(param('std'), [1, 1, 1]);
  if (!std || std.some((s) => s === 0)) err('parameters.std', `std '${param('std')}' is not three non-zero numbers`, 'set std to "r,g,b", e.g. "0.229,0.224,0.225"');
  const order = (param('color_order') ?? 'RGB').toUpperCase();
  if (order !== 'RGB' && order !== 'BGR') err('parameters.color_order', `color_order '${param('color_order')}' is not RGB or BGR`, 'set color_order to "RGB" or "BGR"');
  if (outputType === 'UINT8') {
    for (const key of ['scale', 'mean', 'std']) {
      if (param(key) !== undefined) err(`parameters.${key}`, `a TYPE_UINT8 output holds the pixels as decoded; ${key} does not apply`, `remove ${key}, or make the output TYPE_FP32`);
    }
  }
  if (config.dynamic_batching) {
    problems.push({
      severity: 'warning',
      file,
      field: 'dynamic_batching',
      message: 'dynamic_batching on the image backend batches requests together: one undecodable image then fails every request of its batch, and decoding gains nothing from batching',
      fix: 'remove dynamic_batching from the image step; batch in the model after it',
    });
  }

  if (problems.some((p) => p.severity === 'error') || !layout || scale === undefined || !mean || !std) return { problems };
  return {
    problems,
    settings: {
      inputName: inputs[0].name ?? '',
      outputName: outputs[0].name ?? '',
      outputType,
      width,
      height,
      layout,
      outputDims: dims,
      resize,
      scale: outputType === 'UINT8' ? 1 : scale,
      mean,
      std,
      order: order as 'RGB' | 'BGR',
    },
  };
}

function parseScale(text: string | undefined): number | undefined {
  if (text === undefined) return 1 / 255;
  const m = /^([^/]+)\/([^/]+)$/.exec(text);
  const value = m ? Number(m[1]) / Number(m[2]) : Number(text);
  return Number.isFinite(value) && value !== 0 ? value : undefined;
}

function parseTriple(text: string | undefined, fallback: number[]): number[] | undefined {
  if (text === undefined) return fallback;
  const parts = text.split(/[\s,]+/).filter((p) => p !== '').map(Number);
  return parts.length === 3 && parts.every(Number.isFinite) ? parts : undefined;
}
