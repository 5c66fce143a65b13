import { isOfsError, ofsError } from '../../errors.js';
import type { Session } from '../../core/backend.js';
import type { ImagePreprocessSettings } from '../../core/config/image-preprocess.js';
import type { ValueInfo } from '../../core/graph/ir.js';
import { parseBytesElements } from '../../core/tensor/bytes.js';
import type { Tensor } from '../../core/tensor/tensor.js';
import { arrangePixels, floatToHalf, normalizePixels } from '../../image/pixels.js';
import { decodeRgb } from '../../image/preprocess.js';

/**
 * One image_preprocess instance. Each BYTES element is decoded and resized by sharp on libuv's worker
 * threads (the elements of a batch at once); the event loop only lays the pixels out, with the same
 * normalization code classify uses on the client side.
 */
export class ImageSession implements Session {
  readonly #model: string;
  readonly #settings: ImagePreprocessSettings;

  constructor(
    model: string,
    settings: ImagePreprocessSettings,
    readonly inputs: readonly ValueInfo[],
    readonly outputs: readonly ValueInfo[],
  ) {
    this.#model = model;
    this.#settings = settings;
  }

  async run(inputs: readonly Tensor[], outputNames?: readonly string[]): Promise<Tensor[]> {
    const s = this.#settings;
    if (outputNames && outputNames.some((n) => n !== s.outputName)) {
      throw ofsError('OFS_INFER_OUTPUT', `model '${this.#model}' has only output '${s.outputName}'`);
    }
    const input = inputs.find((t) => t.name === s.inputName);
    if (!input) throw ofsError('OFS_INFER_INPUT', `model '${this.#model}' needs input '${s.inputName}'`);
    const items = parseBytesElements(input.data);
    if (!items) throw ofsError('OFS_INFER_INPUT', `input '${s.inputName}' for model '${this.#model}' holds malformed BYTES data`);
    const rgbs = await Promise.all(
      items.map((bytes, i) =>
        decodeRgb(bytes, `element ${i}`, s.width, s.height, s.resize).catch((e: unknown) => {
          const why = isOfsError(e) ? e.message.replace(/^cannot read image element \d+: /, '') : String(e);
          throw ofsError('OFS_INFER_IMAGE', s.inputName, i, this.#model, why);
        }),
      ),
    );
    const plane = s.width * s.height * 3;
    const transform = { layout: s.layout, scale: s.scale, mean: s.mean, std: s.std, order: s.order };
    let data: Uint8Array;
    if (s.outputType === 'UINT8') {
      const out = new Uint8Array(plane * rgbs.length);
      rgbs.forEach((rgb, i) => arrangePixels(rgb, s.width, s.height, s.layout, s.order, out.subarray(i * plane, (i + 1) * plane)));
      data = out;
    } else {
      const floats = new Float32Array(plane * rgbs.length);
      rgbs.forEach((rgb, i) => normalizePixels(rgb, s.width, s.height, transform, floats.subarray(i * plane, (i + 1) * plane)));
      if (s.outputType === 'FP32') data = new Uint8Array(floats.buffer);
      else {
        const halves = new Uint16Array(floats.length);
        for (let i = 0; i < floats.length; i++) halves[i] = floatToHalf(floats[i]);
        data = new Uint8Array(halves.buffer);
      }
    }
    // The batch dim the request came with (or the elements' own shape when the model does not batch),
    // then the declared image dims.
    const shape = [...input.shape.slice(0, input.shape.length - 1), ...s.outputDims];
    const output: Tensor = { name: s.outputName, datatype: s.outputType, shape, data };
    return [output];
  }

  async dispose(): Promise<void> {}
}
