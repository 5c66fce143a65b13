import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ofsError, toOfsError } from '../../errors.js';
import type { Session } from '../backend.js';
import type { ModelConfig, ModelWarmup } from '../config/model-config.js';
import { seededUniform } from '../graph/builders/seeded.js';
import { dtypeFromConfig, elementCount } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { resolveInsideModelDir } from './paths.js';

/**
 * Triton's model_warmup: before a version is reported READY, every instance runs each warmup sample
 * `count` times, so the first user request does not pay for lazy allocation and kernel selection.
 * Runs on the sessions directly, so warmup is not counted in the model's statistics (as in Triton).
 */

/** Largest warmup input ofserve generates (1 GiB): far above any classifier's input. */
export const MAX_WARMUP_INPUT_BYTES = 2 ** 30;

/** The tensors of one warmup sample; `input_data_file` is read from `<model>/warmup/`. */
export async function warmupInputs(sample: ModelWarmup, config: ModelConfig, modelDir: string): Promise<Tensor[]> {
  const label = `model_warmup '${sample.name ?? ''}'`;
  const batching = (config.max_batch_size ?? 0) > 0;
  const batch = sample.batch_size ?? 1;
  if (batching && batch > (config.max_batch_size ?? 0)) {
    throw ofsError('OFS_WARMUP_FAILED', label, `batch_size ${batch} exceeds max_batch_size ${config.max_batch_size}`);
  }
  const tensors: Tensor[] = [];
  for (const [name, input] of Object.entries(sample.inputs ?? {})) {
    const dtype = dtypeFromConfig(input.data_type ?? '');
    if (!dtype || dtype.itemSize === 0) {
      throw ofsError('OFS_WARMUP_FAILED', label, `input '${name}' has data_type ${input.data_type ?? 'unset'}, which warmup cannot generate`);
    }
    const shape = batching ? [batch, ...(input.dims ?? [])] : [...(input.dims ?? [])];
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw ofsError('OFS_WARMUP_FAILED', label, `input '${name}' needs concrete dims, got [${shape.join(', ')}]`);
    const bytes = elementCount(shape) * dtype.itemSize;
    // dims are config text: [100000, 100000] must be refused here, not allocated as 40 GB of zeros.
    if (!Number.isSafeInteger(bytes) || bytes > MAX_WARMUP_INPUT_BYTES) {
      throw ofsError('OFS_WARMUP_FAILED', label, `input '${name}' of shape [${shape.join(', ')}] would take ${bytes} bytes; warmup inputs are limited to ${MAX_WARMUP_INPUT_BYTES}`);
    }
    let data: Uint8Array;
    if (input.input_data_file) {
      const file = resolveInsideModelDir(path.join(modelDir, 'warmup'), input.input_data_file);
      const raw = await readFile(file).catch((e: unknown) => {
        throw ofsError('OFS_WARMUP_FAILED', label, `cannot read ${file}: ${toOfsError(e).message}`);
      });
      // Triton reads one sample from the file and repeats it for every batch item.
      const one = bytes / Math.max(1, batching ? batch : 1);
      if (raw.length !== one) throw ofsError('OFS_WARMUP_FAILED', label, `${file} has ${raw.length} bytes, input '${name}' needs ${one}`);
      data = new Uint8Array(bytes);
      for (let o = 0; o < bytes; o += one) data.set(raw, o);
    } else if (input.random_data && input.data_type === 'TYPE_FP32') {
      const values = seededUniform(0, name, bytes / 4, 0, 1);
      data = new Uint8Array(values.buffer);
    } else {
      data = new Uint8Array(bytes); // zero_data, and random bytes for non-float types would be arbitrary anyway
    }
    tensors.push({ name, datatype: dtype.wire, shape, data });
  }
  return tensors;
}

export async function runWarmup(sessions: readonly Session[], config: ModelConfig, modelDir: string): Promise<void> {
  for (const sample of config.model_warmup ?? []) {
    const inputs = await warmupInputs(sample, config, modelDir);
    for (const session of sessions) {
      for (let i = 0; i < Math.max(1, sample.count ?? 1); i++) {
        try {
          await session.run(inputs);
        } catch (e) {
          throw ofsError('OFS_WARMUP_FAILED', `model_warmup '${sample.name ?? ''}'`, toOfsError(e).message);
        }
      }
    }
  }
}
