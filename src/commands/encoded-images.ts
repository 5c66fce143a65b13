import { readFile } from 'node:fs/promises';
import { ofsError } from '../errors.js';
import type { InferInput } from '../client/infer-input.js';
import { serializeBytesElements } from '../core/tensor/bytes.js';
import type { V2ModelMetadata } from '../protocol/v2-types.js';

/**
 * `classify --send-image`: the files' own bytes go to a model that decodes images on the server (an
 * `image_preprocess` model, or an ensemble starting with one), one BYTES element per image.
 */

/** The model's BYTES input; throws OFS_NOT_IMAGE_MODEL when it has none to take encoded files. */
export function encodedImageInput(metadata: V2ModelMetadata, model: string): { readonly name: string; readonly shape: readonly number[] } {
  const inputs = metadata.inputs;
  if (inputs.length !== 1 || inputs[0].datatype !== 'BYTES') {
    const what = inputs.map((i) => `${i.name} ${i.datatype}`).join(', ') || 'no inputs';
    throw ofsError('OFS_NOT_IMAGE_MODEL', model, `--send-image needs one BYTES input for the encoded files, it has ${what}`);
  }
  return { name: inputs[0].name, shape: inputs[0].shape };
}

/** One request's input: the files' bytes, batched as [n, 1] when the model batches, else [1]. */
export async function encodedImagesInput(input: { readonly name: string; readonly shape: readonly number[] }, paths: readonly string[], maxBatch: number): Promise<InferInput> {
  const files = await Promise.all(paths.map((p) => readFile(p)));
  const shape = maxBatch > 0 ? [files.length, ...input.shape.slice(1).map((d) => (d === -1 ? 1 : d))] : input.shape.map((d) => (d === -1 ? 1 : d));
  return { name: input.name, datatype: 'BYTES', shape, data: serializeBytesElements(files) };
}
