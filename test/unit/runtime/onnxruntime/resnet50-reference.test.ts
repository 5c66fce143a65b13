import { describe, expect, it } from 'vitest';
import { buildResNet50 } from '../../../../src/core/graph/builders/resnet50.js';
import { OrtBackend } from '../../../../src/runtime/onnxruntime/backend.js';
import { fp32Tensor, fp32Values, maxAbsDiff, randomValues } from '../../../fixtures/ort.js';
import { evaluate } from '../../../fixtures/reference-eval.js';

// Separate from resnet50.test.ts so the two (each a few seconds) run in parallel forks.
const backend = new OrtBackend();

describe('ResNet-50 against the reference evaluator', () => {
  it('agrees on a small 32x32 input (spatial dims made dynamic for the test)', async () => {
    const built = buildResNet50({ seed: 1 });
    const graph = { ...built, inputs: [{ ...built.inputs[0]!, shape: [-1, 3, -1, -1] }] };
    const data = randomValues(3 * 32 * 32, 11, 0, 1);
    const ref = evaluate(graph, { INPUT_0: { shape: [1, 3, 32, 32], data } }).OUTPUT_0!;
    const session = await backend.createSession({ model: 'r', version: '1', graph }, { device: 'cpu', threads: 2 });
    try {
      const [out] = await session.run([fp32Tensor('INPUT_0', [1, 3, 32, 32], data)]);
      expect(out!.shape).toEqual([1, 1000]);
      const scale = Math.max(...ref.data.map(Math.abs));
      expect(scale).toBeGreaterThan(0.1); // the seeded weights keep activations alive through 50 layers
      expect(maxAbsDiff(fp32Values(out!), ref.data)).toBeLessThan(1e-4 * Math.max(1, scale));
    } finally {
      await session.dispose();
    }
  });
});
