import * as ort from 'onnxruntime-node';
import { ofsError } from '../../errors.js';

/**
 * Runs an FP32 model (written with the activations to observe as extra outputs) over calibration
 * inputs, one at a time, and hands each observed activation to `observe`. On the calling thread:
 * calibration is an offline command, with no event loop to keep responsive.
 */
export async function runCalibration(
  model: Uint8Array,
  inputName: string,
  activations: readonly string[],
  inputs: AsyncIterable<{ data: Float32Array; shape: readonly number[] }>,
  observe: (name: string, values: Float32Array) => void,
): Promise<number> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'basic', executionProviders: ['cpu'] });
  } catch (e) {
    throw ofsError('OFS_BACKEND_FAILED', `onnxruntime could not load the model for calibration: ${e instanceof Error ? e.message : String(e)}`);
  }
  let count = 0;
  try {
    for await (const input of inputs) {
      const feeds = { [inputName]: new ort.Tensor('float32', input.data, [...input.shape]) };
      const results = await session.run(feeds, [...activations]);
      for (const name of activations) {
        const t = results[name];
        if (!t || t.type !== 'float32') throw ofsError('OFS_BACKEND_FAILED', `calibration: onnxruntime returned no float32 value for ${name}`);
        observe(name, t.data as Float32Array);
      }
      count++;
    }
  } finally {
    await session.release();
  }
  return count;
}
