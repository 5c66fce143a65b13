import { isOfsError } from '../errors.js';
import type { ModelConfig } from '../core/config/model-config.js';
import type { InferenceClient } from './inference-client.js';
import type { ModelMetadata } from './v2-types.js';

/**
 * The model's config, or undefined when the server answers non-200 (a KServe server without Triton's
 * model configuration extension); metadata alone then has to do. Connection failures still throw.
 */
export async function modelConfigOrUndefined(
  client: Pick<InferenceClient, 'getModelConfig'>,
  model: string,
  version?: string,
): Promise<ModelConfig | undefined> {
  try {
    return await client.getModelConfig(model, version);
  } catch (e) {
    if (isOfsError(e) && e.code === 'OFS_SERVER_ERROR') return undefined;
    throw e;
  }
}

/**
 * max_batch_size from the config; without one, a leading -1 in the first input's metadata shape is the
 * only sign that the model batches, and 1 is the only batch size known to be safe.
 */
export function maxBatchSizeOf(metadata: ModelMetadata, config: ModelConfig | undefined): number {
  if (typeof config?.max_batch_size === 'number') return config.max_batch_size;
  return metadata.inputs[0]?.shape[0] === -1 ? 1 : 0;
}
