import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Session } from '../../../../../src/core/backend.js';
import { buildResNet50 } from '../../../../../src/core/graph/builders/resnet50.js';
import { loadOneflowModel } from '../../../../../src/core/graph/oneflow/folder.js';
import { OrtBackend } from '../../../../../src/runtime/onnxruntime/backend.js';
import { RESNET50_MLIR, makeTemp, removeTemp, writeSeededResnetWeights } from '../../../../fixtures/oneflow.js';
import { fp32Tensor, fp32Values, randomValues } from '../../../../fixtures/ort.js';

/**
 * The ResNet-50 OneFlow traced (resnet50_graph_2022, flowvision) with seeded weights, imported by
 * ofserve, against the independently built torchvision ResNet-50 with the same seed: both through
 * onnxruntime, they must compute the same function.
 */
const backend = new OrtBackend();
let tmp: string;
let fromOneflow: Session;
let reference: Session;

beforeAll(async () => {
  tmp = await makeTemp();
  const dir = join(tmp, 'model');
  await writeSeededResnetWeights(RESNET50_MLIR, dir, 7);
  const { graph } = await loadOneflowModel(dir);
  fromOneflow = await backend.createSession({ model: 'oneflow-resnet50', version: '1', graph }, { device: 'cpu', threads: 1 });
  reference = await backend.createSession({ model: 'resnet50', version: '1', graph: buildResNet50({ seed: 7 }) }, { device: 'cpu', threads: 1 });
});
afterAll(async () => {
  await fromOneflow?.dispose();
  await reference?.dispose();
  await removeTemp(tmp);
});

function relativeError(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += ((a[i] as number) - (b[i] as number)) ** 2;
    den += (b[i] as number) ** 2;
  }
  return Math.sqrt(num / den);
}

describe('OneFlow ResNet-50 fixture vs buildResNet50 on onnxruntime', () => {
  it('agree on 2 random images: ‖a − b‖ / ‖b‖ < 1e-5', async () => {
    const input = fp32Tensor('INPUT_0', [2, 3, 224, 224], randomValues(2 * 3 * 224 * 224, 11, 0, 1));
    const [a] = await fromOneflow.run([input]);
    const [b] = await reference.run([input]);
    expect(a?.shape).toEqual([2, 1000]);
    expect(b?.shape).toEqual([2, 1000]);
    const av = fp32Values(a!);
    const bv = fp32Values(b!);
    // The function is not trivial: the two images score differently.
    expect(relativeError(av.subarray(0, 1000), av.subarray(1000))).toBeGreaterThan(1e-3);
    for (const i of [0, 1]) {
      expect(relativeError(av.subarray(i * 1000, (i + 1) * 1000), bv.subarray(i * 1000, (i + 1) * 1000))).toBeLessThan(1e-5);
    }
  });
});
