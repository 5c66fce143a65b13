import { describe, expect, it } from 'vitest';
import { buildResNet50 } from '../../../../src/core/graph/builders/resnet50.js';
import { NativeBackend } from '../../../../src/runtime/native/backend.js';
import { compilePlan } from '../../../../src/runtime/native/compile-plan.js';
import { OrtBackend } from '../../../../src/runtime/onnxruntime/backend.js';
import { FakeNativeBinding } from '../../../fixtures/fake-native-binding.js';
import { relativeDiff } from '../../../fixtures/native-models.js';
import { fp32Tensor, fp32Values, randomValues } from '../../../fixtures/ort.js';
import { runPlan } from '../../../fixtures/plan-eval.js';

// Its own file (a few seconds: ORT loads 100 MB of weights) so it runs in parallel with the others.
describe('compilePlan on ResNet-50', () => {
  it('compiles to 53 fused convs, a max pool, a global pool and one gemm, and matches onnxruntime on 32x32 inputs, directly and through NativeBackend', async () => {
    const built = buildResNet50({ seed: 1 });
    const graph = { ...built, inputs: [{ ...built.inputs[0]!, shape: [-1, 3, 32, 32] }] };
    const { plan, weights, outputShape } = compilePlan(graph);

    const count = (op: string): number => plan.steps.filter((s) => s.op === op).length;
    expect(plan.steps).toHaveLength(56);
    expect([count('conv'), count('maxpool'), count('globalavgpool'), count('gemm')]).toEqual([53, 1, 1, 1]);
    const convs = plan.steps.flatMap((s) => (s.op === 'conv' ? [s] : []));
    // 16 blocks, each ending in one conv that adds the shortcut; only the 4 projection blocks' conv3
    // (computed before the shortcut conv) ends without a Relu.
    expect(convs.filter((c) => c.residual !== undefined)).toHaveLength(16);
    expect(convs.filter((c) => !c.relu)).toHaveLength(4);
    expect(outputShape).toEqual([1000]);
    // 32 → conv1 s2 → 16 → maxpool → 8 → 8, 4, 2, 1 after the four stages.
    const gap = plan.steps.find((s) => s.op === 'globalavgpool')!;
    expect(plan.tensors[gap.x]!.shape).toEqual([2048, 1, 1]);

    const batch = 2;
    const data = randomValues(batch * 3 * 32 * 32, 11, 0, 1);
    const planOut = runPlan(plan, weights, data, batch);

    const session = await new OrtBackend().createSession({ model: 'r', version: '1', graph }, { device: 'cpu', threads: 1 });
    try {
      const [out] = await session.run([fp32Tensor('INPUT_0', [batch, 3, 32, 32], data)]);
      expect(out!.shape).toEqual([batch, 1000]);
      const ort = fp32Values(out!);
      expect(Math.max(...ort.map(Math.abs))).toBeGreaterThan(0.1);
      // The two samples differ, so a batch-major mix-up would show.
      expect(relativeDiff(ort.subarray(0, 1000), ort.subarray(1000))).toBeGreaterThan(1e-3);
      const scale = Math.max(...ort.map(Math.abs));
      let diff = 0;
      for (let i = 0; i < ort.length; i++) diff = Math.max(diff, Math.abs(planOut[i]! - ort[i]!));
      expect(diff / scale).toBeLessThan(1e-4);

      // The same model through NativeBackend (a binding that interprets the plan), one sample at a time.
      const binding = new FakeNativeBinding();
      const native = await new NativeBackend(binding).createSession({ model: 'r', version: '1', graph }, { device: 'gpu', maxBatch: 1 });
      const [viaBackend] = await native.run([fp32Tensor('INPUT_0', [batch, 3, 32, 32], data)]);
      await native.dispose();
      expect(binding.runs.map((r) => r.batch)).toEqual([1, 1]);
      expect(viaBackend!.shape).toEqual([batch, 1000]);
      expect(relativeDiff(fp32Values(viaBackend!), ort)).toBeLessThan(1e-4);
    } finally {
      await session.dispose();
    }
  });
});
