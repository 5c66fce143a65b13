import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Session } from '../../../../src/core/backend.js';
import { readOnnxModel } from '../../../../src/core/graph/onnx-reader.js';
import { OrtBackend } from '../../../../src/runtime/onnxruntime/backend.js';
import { resnet50OnnxPath } from '../../../fixtures/models.js';
import { fp32Tensor, fp32Values, maxAbsDiff, randomValues } from '../../../fixtures/ort.js';

const backend = new OrtBackend();

describe('ResNet-50 on OrtBackend', () => {
  let session: Session;
  beforeAll(async () => {
    const path = resnet50OnnxPath(1);
    const onnx = readFileSync(path);
    session = await backend.createSession({ model: 'resnet50', version: '1', graph: readOnnxModel(onnx, path), onnx }, { device: 'cpu', threads: 2 });
  });
  afterAll(() => session?.dispose());

  it('runs a batch of 2 to [2,1000] finite scores that differ per image', async () => {
    const data = randomValues(2 * 3 * 224 * 224, 5, 0, 1);
    const [out] = await session.run([fp32Tensor('INPUT_0', [2, 3, 224, 224], data)]);
    expect(out).toMatchObject({ name: 'OUTPUT_0', datatype: 'FP32', shape: [2, 1000] });
    const scores = fp32Values(out!);
    expect(scores.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(scores.subarray(0, 1000), scores.subarray(1000))).toBeGreaterThan(1e-3);
  });

  it('keeps the event loop free while an inference runs', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = performance.now();
    try {
      await session.run([fp32Tensor('INPUT_0', [4, 3, 224, 224], randomValues(4 * 3 * 224 * 224, 6, 0, 1))]);
    } finally {
      clearInterval(timer);
    }
    const elapsed = performance.now() - started;
    // A blocked loop would fire at most once; a free one fires every millisecond or so.
    expect(elapsed).toBeGreaterThan(20);
    expect(ticks).toBeGreaterThan(Math.min(10, elapsed / 10));
  });
});
