import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../../src/core/config/model-config.js';
import { runWarmup, warmupInputs } from '../../../../src/core/repository/warmup.js';
import type { Tensor } from '../../../../src/core/tensor/tensor.js';
import { FakeSession } from '../../../fixtures/fake-models.js';
import { repoDir } from '../../../fixtures/repo.js';

const config = (warmup: ModelConfig['model_warmup'], maxBatch = 4): ModelConfig => ({ name: 'm', max_batch_size: maxBatch, model_warmup: warmup });

describe('model_warmup', () => {
  it('builds zero and random samples with the batch dimension in front', async () => {
    const [zero] = await warmupInputs({ name: 'z', batch_size: 2, inputs: { INPUT_0: { data_type: 'TYPE_FP32', dims: [3, 2], zero_data: true } } }, config([]), '/nowhere');
    expect(zero.shape).toEqual([2, 3, 2]);
    expect(zero.data.length).toBe(2 * 3 * 2 * 4);
    expect(zero.data.every((b) => b === 0)).toBe(true);
    const [random] = await warmupInputs({ name: 'r', batch_size: 1, inputs: { INPUT_0: { data_type: 'TYPE_FP32', dims: [8], random_data: true } } }, config([]), '/nowhere');
    const values = new Float32Array(random.data.buffer);
    expect(values.some((v) => v !== 0)).toBe(true);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
  });

  it('has no batch dimension for a model that does not batch', async () => {
    const [t] = await warmupInputs({ name: 'z', inputs: { X: { data_type: 'TYPE_INT32', dims: [5], zero_data: true } } }, config([], 0), '/nowhere');
    expect(t.shape).toEqual([5]);
    expect(t.datatype).toBe('INT32');
  });

  it('reads input_data_file from the warmup folder and repeats it over the batch', async () => {
    const dir = await repoDir({ 'warmup/sample.bin': new Uint8Array(new Float32Array([1, 2]).buffer) });
    const [t] = await warmupInputs({ name: 'f', batch_size: 3, inputs: { X: { data_type: 'TYPE_FP32', dims: [2], input_data_file: 'sample.bin' } } }, config([]), dir);
    expect([...new Float32Array(t.data.buffer)]).toEqual([1, 2, 1, 2, 1, 2]);
  });

  it('rejects a file of the wrong size, a path outside the model, a batch over max_batch_size and variable dims', async () => {
    const dir = await repoDir({ 'warmup/short.bin': new Uint8Array(3) });
    const sample = (input: object, batch = 1) => ({ name: 's', batch_size: batch, inputs: { X: { data_type: 'TYPE_FP32' as const, dims: [2], ...input } } });
    await expect(warmupInputs(sample({ input_data_file: 'short.bin' }), config([]), dir)).rejects.toThrow(/short\.bin has 3 bytes, input 'X' needs 8/);
    await expect(warmupInputs(sample({ input_data_file: '../../etc/passwd' }), config([]), dir)).rejects.toMatchObject({ code: 'OFS_PATH_ESCAPES' });
    await expect(warmupInputs(sample({ zero_data: true }, 9), config([]), dir)).rejects.toThrow(/batch_size 9 exceeds max_batch_size 4/);
    await expect(
      warmupInputs({ name: 'v', inputs: { X: { data_type: 'TYPE_FP32', dims: [-1], zero_data: true } } }, config([]), dir),
    ).rejects.toThrow(/concrete dims/);
  });

  it('runs every sample count times on every instance, and names the sample when one fails', async () => {
    const calls: number[] = [];
    const sessions = [0, 1].map((i) => new FakeSession([], [], (inputs: readonly Tensor[]) => (calls.push(i), [...inputs])));
    const warm = config([{ name: 'w', batch_size: 1, count: 3, inputs: { X: { data_type: 'TYPE_FP32', dims: [1], zero_data: true } } }]);
    await runWarmup(sessions, warm, '/nowhere');
    expect(calls).toEqual([0, 0, 0, 1, 1, 1]);

    const failing = [new FakeSession([], [], () => { throw new Error('kernel exploded'); })];
    await expect(runWarmup(failing, warm, '/nowhere')).rejects.toMatchObject({ code: 'OFS_WARMUP_FAILED', message: "model_warmup 'w' failed: kernel exploded" });
  });
});
