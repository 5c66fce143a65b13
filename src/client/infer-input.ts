import { ofsError } from '../errors.js';
import { elementCount, type TypedArray, type WireDatatype } from '../core/tensor/dtype.js';
import type { Tensor } from '../core/tensor/tensor.js';
import { countElements, valuesToBytes } from '../protocol/typed-tensor.js';

/** One input of an infer request (tritonclient's InferInput): a tensor plus how it travels. */
export interface InferInput extends Tensor {
  /** Send as binary tensor data after the JSON (default, like tritonclient) or as JSON `data`. */
  readonly binaryData?: boolean;
}

/** One requested output (tritonclient's InferRequestedOutput). */
export interface RequestedOutput {
  readonly name: string;
  /** Ask for the output as binary data (default true). */
  readonly binaryData?: boolean;
  /** Ask for the top-k classification strings instead of the raw tensor (Triton's class_count). */
  readonly classCount?: number;
}

/**
 * Builds an InferInput from a typed array (matching the datatype: Float32Array for FP32, …) or, for
 * BYTES, an array of strings. The element count must match the shape.
 */
export function inferInput(
  name: string,
  datatype: WireDatatype,
  shape: readonly number[],
  values: TypedArray | readonly string[],
  options: { binaryData?: boolean } = {},
): InferInput {
  let data: Uint8Array;
  try {
    data = valuesToBytes(datatype, values);
  } catch (e) {
    throw ofsError('OFS_BAD_ARGUMENT', `input '${name}': ${(e as Error).message}`);
  }
  const expected = elementCount(shape);
  const got = countElements(datatype, data);
  if (got !== expected) {
    throw ofsError(
      'OFS_BAD_ARGUMENT',
      `input '${name}' has ${got} elements but shape [${shape.join(',')}] needs ${expected}`,
    );
  }
  return { name, datatype, shape: [...shape], data, binaryData: options.binaryData };
}
