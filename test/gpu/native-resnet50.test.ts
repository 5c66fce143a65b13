import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildResNet50 } from '../../src/core/graph/builders/resnet50.js';
import type { NativeBinding, NativeSessionHandle } from '../../src/runtime/native/binding.js';
import { compilePlan, type CompiledPlan } from '../../src/runtime/native/compile-plan.js';
import { relativeError, runPlanOnCpu, seededFloats } from '../fixtures/native-plans.js';
import { evaluate } from '../fixtures/reference-eval.js';
import { gpuEnabled, gpuSkipNote, loadAddon, report, timeRuns } from './gpu-env.js';

const argmax = (a: Float32Array): number => a.reduce((best, v, i) => (v > a[best]! ? i : best), 0);

describe.skipIf(!gpuEnabled)(`ResNet-50 compiled by compilePlan, on a GPU${gpuSkipNote}`, () => {
  let addon: NativeBinding;
  let compiled: CompiledPlan;
  let graph: ReturnType<typeof buildResNet50>;
  const sessions: NativeSessionHandle[] = [];

  beforeAll(() => {
    addon = loadAddon();
    graph = buildResNet50({ seed: 7 });
    compiled = compilePlan(graph);
  });
  afterAll(() => {
    for (const s of sessions) addon.releaseSession(s);
  });

  it('agrees with the graph-level reference evaluator (BN unfolded, loop by loop) at batch 1', async () => {
    const session = addon.createSession(JSON.stringify(compiled.plan), compiled.weights, 0, 8);
    sessions.push(session);
    const input = seededFloats(77, 3 * 224 * 224, -2, 2);
    const gpu = await addon.run(session, input, 1);
    const ref = Object.values(evaluate(graph, { [graph.inputs[0]!.name]: { shape: [1, 3, 224, 224], data: input } }))[0]!.data;
    const err = relativeError(gpu, ref);
    // The same plan on the CPU separates compiler error from execution error if this fails.
    const planErr = relativeError(runPlanOnCpu(compiled.plan, compiled.weights, input, 1), ref);
    report({ check: 'resnet50 compiled fp32 vs reference-eval', relativeError: err, planOnCpuRelativeError: planErr });
    expect(gpu.length).toBe(1000);
    expect(err).toBeLessThan(1e-3);
    expect(argmax(gpu)).toBe(argmax(ref));
  }, 300_000);

  it('gives each sample of a batch of 8 the result it gets alone, and times batch 1 and 8', async () => {
    const session = addon.createSession(JSON.stringify(compiled.plan), compiled.weights, 0, 8);
    sessions.push(session);
    const input8 = seededFloats(78, 8 * 3 * 224 * 224, -2, 2);
    const out8 = await addon.run(session, input8, 8);
    const per = 3 * 224 * 224;
    for (const i of [0, 5]) {
      const alone = await addon.run(session, input8.slice(i * per, (i + 1) * per), 1);
      // Different batch sizes may pick different cuDNN algorithms: equal to rounding, not bit for bit.
      expect(relativeError(out8.subarray(i * 1000, (i + 1) * 1000), alone)).toBeLessThan(1e-4);
    }
    const b1 = await timeRuns(addon, session, input8.slice(0, per), 1, 'resnet50 compiled fp32');
    const b8 = await timeRuns(addon, session, input8, 8, 'resnet50 compiled fp32');
    expect(b8.imagesPerSecond).toBeGreaterThan(b1.imagesPerSecond);
  }, 300_000);
});
