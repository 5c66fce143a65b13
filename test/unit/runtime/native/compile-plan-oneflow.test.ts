import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildResNet50 } from '../../../../src/core/graph/builders/resnet50.js';
import { loadOneflowModel } from '../../../../src/core/graph/oneflow/index.js';
import { compilePlan } from '../../../../src/runtime/native/compile-plan.js';
import type { NativePlan } from '../../../../src/runtime/native/plan-format.js';
import { makeTemp, removeTemp, RESNET50_MLIR, writeSeededResnetWeights } from '../../../fixtures/oneflow.js';

describe('compilePlan on ResNet-50 saved by OneFlow', () => {
  /**
   * Each conv as its attributes and weight/bias sums, compared as sets: OneFlow orders a projection
   * block's shortcut conv before the main branch, so there conv3 (not the shortcut) takes the residual.
   */
  function convSummary({ plan, weights }: { plan: NativePlan; weights: Float32Array }): { key: string; fused: string; w: number; b: number }[] {
    const sum = (offset: number, length: number): number => weights.subarray(offset, offset + length).reduce((a, v) => a + v, 0);
    return plan.steps
      .flatMap((s) => (s.op === 'conv' ? [s] : []))
      .map((s) => ({
        key: `${s.weight.shape} s${s.strides} p${s.pads} ${plan.tensors[s.x]!.shape}→${plan.tensors[s.y]!.shape}`,
        fused: `${s.relu}/${s.residual !== undefined}`,
        w: sum(s.weight.offset, s.weight.length),
        b: sum(s.bias.offset, s.bias.length),
      }))
      .sort((p, q) => (p.key === q.key ? p.w - q.w : p.key < q.key ? -1 : 1));
  }

  it('compiles the OneFlow graph (AveragePool 7x7 head) to the same fused convs and weights as the ONNX builder', async () => {
    const dir = await makeTemp();
    try {
      await writeSeededResnetWeights(RESNET50_MLIR, join(dir, 'model'), 1);
      const { graph } = await loadOneflowModel(join(dir, 'model'));
      const fromOneflow = compilePlan(graph);
      const fromOnnx = compilePlan(buildResNet50({ seed: 1 }));
      const ops = (p: NativePlan): string[] => p.steps.map((s) => s.op).filter((op) => op !== 'conv');
      expect(ops(fromOneflow.plan)).toEqual(['maxpool', 'avgpool', 'gemm']);
      expect(ops(fromOnnx.plan)).toEqual(['maxpool', 'globalavgpool', 'gemm']);
      expect(fromOneflow.outputShape).toEqual([1000]);
      const a = convSummary(fromOneflow);
      const b = convSummary(fromOnnx);
      expect(a.map((c) => c.key)).toEqual(b.map((c) => c.key));
      for (const convs of [a, b]) {
        expect(convs.filter((c) => c.fused === 'true/true')).toHaveLength(16);
        expect(convs.filter((c) => c.fused === 'true/false')).toHaveLength(33);
      }
      a.forEach((c, i) => {
        expect(c.w).toBeCloseTo(b[i]!.w, 3);
        expect(c.b).toBeCloseTo(b[i]!.b, 3);
      });
    } finally {
      await removeTemp(dir);
    }
  });
});
