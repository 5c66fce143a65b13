import { afterEach, describe, expect, it } from 'vitest';
import { BackendRegistry } from '../../src/core/backend.js';
import { CONFIG_FILENAME } from '../../src/core/config/constants.js';
import type { Logger } from '../../src/core/log.js';
import { ModelManager } from '../../src/core/repository/model-manager.js';
import { NativeBackend } from '../../src/runtime/native/backend.js';
import { OrtBackend } from '../../src/runtime/onnxruntime/backend.js';
import { writeOnnxModel } from '../../src/core/graph/onnx-writer.js';
import { GraphBuilder } from '../../src/core/graph/builders/graph-builder.js';
import { FakeNativeBinding } from '../fixtures/fake-native-binding.js';
import { colourClassifierOnnx } from '../fixtures/models.js';
import { fp32Tensor, fp32Values } from '../fixtures/ort.js';
import { repoDir } from '../fixtures/repo.js';

/**
 * Where instance groups run when a GPU backend is registered: KIND_GPU on the native backend (here a
 * fake binding that executes the plan on CPU), KIND_CPU on onnxruntime, and a model the GPU backend
 * cannot compile on CPU with one warning (or refused with --strict).
 */

const config = (name: string, kind: string) => `name: "${name}"
backend: "onnxruntime"
max_batch_size: 4
input [ { name: "INPUT_0" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ]
output [ { name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 11 ] } ]
instance_group [ { kind: ${kind} count: 1 } ]
`;

/** A model outside the GPU subset: Sigmoid after the colour classifier's scores. */
function sigmoidModel(): Uint8Array {
  const b = new GraphBuilder();
  const pooled = b.node('GlobalAveragePool', 'pooled', ['INPUT_0']);
  const flat = b.node('Flatten', 'flat', [pooled], { axis: { kind: 'int', value: 1 } });
  const w = b.float32('w', [11, 3], new Float32Array(33).fill(0.5));
  const c = b.float32('c', [11], new Float32Array(11));
  const scores = b.node('Gemm', 'scores', [flat, w, c], { transB: { kind: 'int', value: 1 } });
  b.node('Sigmoid', 'sigmoid', [scores], {}, 'OUTPUT_0');
  return writeOnnxModel(
    b.build('sigmoid', [{ name: 'INPUT_0', dtype: 'FP32', shape: [-1, 3, 224, 224] }], [{ name: 'OUTPUT_0', dtype: 'FP32', shape: [-1, 11] }]),
  );
}

let lifecycle: ModelManager | undefined;
afterEach(async () => {
  await lifecycle?.stop();
  lifecycle = undefined;
});

async function start(tree: Record<string, string | Uint8Array>, strictGpu = false) {
  const store = await repoDir(tree);
  const warnings: string[] = [];
  const log: Logger = { info() {}, warn: (m) => warnings.push(m), error() {}, verbose() {} };
  const binding = new FakeNativeBinding();
  const backends = new BackendRegistry();
  backends.register(new OrtBackend(), 10);
  backends.register(new NativeBackend(binding), 20);
  lifecycle = new ModelManager({ storeDir: store, backends, gpu: { available: true, reason: 'fake H100' }, strict: strictGpu, controlMode: 'none', log });
  const failures = await lifecycle.start();
  return { binding, warnings, failures, lifecycle };
}

describe('instance placement with a GPU backend', () => {
  it('runs KIND_GPU on the native backend and KIND_CPU on onnxruntime, with the same answer', async () => {
    const { onnx } = colourClassifierOnnx();
    const { binding, failures, lifecycle: lc } = await start({
      [`gpu/${CONFIG_FILENAME}`]: config('gpu', 'KIND_GPU'),
      'gpu/1/model.onnx': onnx,
      [`cpu/${CONFIG_FILENAME}`]: config('cpu', 'KIND_CPU'),
      'cpu/1/model.onnx': onnx,
    });
    expect(failures).toEqual([]);
    expect(binding.sessions.size).toBe(1);
    expect([...binding.sessions.values()][0].maxBatch).toBe(4);

    const pixels = new Float32Array(2 * 3 * 224 * 224).map((_, i) => (i % 7) / 7);
    const input = () => [fp32Tensor('INPUT_0', [2, 3, 224, 224], pixels)];
    const onGpu = await lc.get('gpu').scheduler.enqueue({ inputs: input(), batchSize: 2, receivedNs: process.hrtime.bigint() });
    const onCpu = await lc.get('cpu').scheduler.enqueue({ inputs: input(), batchSize: 2, receivedNs: process.hrtime.bigint() });
    expect(binding.runs).toHaveLength(1);
    const a = fp32Values(onGpu.outputs[0]);
    const b = fp32Values(onCpu.outputs[0]);
    expect(onGpu.outputs[0].shape).toEqual([2, 11]);
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 4);
  });

  it('falls back to CPU with one warning for a model the GPU backend cannot run', async () => {
    const { binding, warnings, failures, lifecycle: lc } = await start({ [`m/${CONFIG_FILENAME}`]: config('m', 'KIND_GPU'), 'm/1/model.onnx': sigmoidModel() });
    expect(failures).toEqual([]);
    expect(binding.sessions.size).toBe(0);
    expect(warnings.filter((w) => w.includes("'m' runs on CPU"))).toHaveLength(1);
    expect(lc.readyVersions('m')).toEqual(['1']);
  });

  it('--strict refuses it instead', async () => {
    const { failures, lifecycle: lc } = await start({ [`m/${CONFIG_FILENAME}`]: config('m', 'KIND_GPU'), 'm/1/model.onnx': sigmoidModel() }, true);
    expect(failures).toHaveLength(1);
    expect(failures[0].reason).toMatch(/Sigmoid/);
    expect(lc.index()).toMatchObject([{ name: 'm', version: '1', state: 'UNAVAILABLE' }]);
  });
});
