import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeBinding, NativeSessionHandle } from '../../src/runtime/native/binding.js';
import {
  allOpsPlan,
  relativeError,
  resnet50ShapedPlan,
  runPlanOnCpu,
  seededFloats,
  tinyPlan,
  tinyPlanExpected,
  tinyPlanInput,
} from '../fixtures/native-plans.js';
import { gpuEnabled, gpuSkipNote, loadAddon, report, timeRuns } from './gpu-env.js';

describe.skipIf(!gpuEnabled)(`native addon on a GPU${gpuSkipNote}`, () => {
  let addon: NativeBinding;
  const sessions: NativeSessionHandle[] = [];
  const open = (plan: object, weights: Float32Array, maxBatch: number): NativeSessionHandle => {
    const s = addon.createSession(JSON.stringify(plan), weights, 0, maxBatch);
    sessions.push(s);
    return s;
  };

  beforeAll(() => {
    addon = loadAddon();
  });
  afterAll(() => {
    for (const s of sessions) addon.releaseSession(s);
  });

  it('init() lists the device and the cuDNN 9 / cuBLAS versions', () => {
    const info = addon.init();
    report({ init: info });
    expect(info.devices.length).toBeGreaterThan(0);
    expect(info.devices[0]!.totalMemoryBytes).toBeGreaterThan(1 << 30);
    expect(info.devices[0]!.computeCapability).toMatch(/^\d+\.\d+$/);
    expect(Math.floor(info.cudnnVersion / 10000)).toBe(9);
    expect(info.cublasVersion).toBeGreaterThanOrEqual(120000);
  });

  it('runs the hand-worked conv 1x1 + relu + gemm plan exactly (batch 2, then batch 1)', async () => {
    const { plan, weights } = tinyPlan();
    const session = open(plan, weights, 4);
    const out = await addon.run(session, tinyPlanInput, 2);
    expect(out).toBeInstanceOf(Float32Array);
    // Exact in real arithmetic; 1e-5 leaves room for whichever cuDNN algorithm is picked.
    expect(out.length).toBe(4);
    out.forEach((v, i) => expect(Math.abs(v - tinyPlanExpected[i]!)).toBeLessThan(1e-4));
    const one = await addon.run(session, tinyPlanInput.slice(0, 4), 1);
    expect(one.length).toBe(2);
    expect(Math.abs(one[0]! - 24)).toBeLessThan(1e-5);
    expect(Math.abs(one[1]! + 1.75)).toBeLessThan(1e-5);
  });

  it('matches the CPU interpreter on every step kind, at batch 1 and 3, on fresh random inputs', async () => {
    const { plan, weights } = allOpsPlan(5);
    const session = open(plan, weights, 3);
    for (const [batch, seed] of [[1, 21], [3, 22], [3, 23]] as const) {
      const input = seededFloats(seed, batch * 4 * 9 * 9, -2, 2);
      const gpu = await addon.run(session, input, batch);
      const cpu = runPlanOnCpu(plan, weights, input, batch);
      const err = relativeError(gpu, cpu);
      report({ check: 'allOps', batch, relativeError: err });
      expect(err).toBeLessThan(1e-4);
    }
  });

  it('serializes concurrent runs on one session and keeps each result with its input', async () => {
    const { plan, weights } = allOpsPlan(6);
    const session = open(plan, weights, 2);
    const inputs = [31, 32, 33, 34].map((seed) => seededFloats(seed, 2 * 4 * 9 * 9));
    const outs = await Promise.all(inputs.map((x) => addon.run(session, x, 2)));
    outs.forEach((out, i) => expect(relativeError(out, runPlanOnCpu(plan, weights, inputs[i]!, 2))).toBeLessThan(1e-4));
  });

  it('rejects bad runs with messages, and a released session', async () => {
    const { plan, weights } = tinyPlan();
    const session = addon.createSession(JSON.stringify(plan), weights, 0, 2);
    await expect(addon.run(session, new Float32Array(12), 3)).rejects.toThrow(/batch 3 exceeds the session's maxBatch 2/);
    await expect(addon.run(session, new Float32Array(5), 1)).rejects.toThrow(/input has 5 floats, batch 1 needs 4/);
    addon.releaseSession(session);
    addon.releaseSession(session);
    await expect(addon.run(session, new Float32Array(4), 1)).rejects.toThrow(/released/);
  });

  it('fails createSession on a device ordinal that does not exist, naming cudaSetDevice', () => {
    const { plan, weights } = tinyPlan();
    expect(() => addon.createSession(JSON.stringify(plan), weights, 999, 1)).toThrow(/^cudaSetDevice: cudaErrorInvalidDevice/);
  });

  it('runs a ResNet-50-shaped plan like the CPU interpreter, and times batch 1 and 8 (fp32, then tf32)', async () => {
    const { plan, weights } = resnet50ShapedPlan();
    const session = open(plan, weights, 8);
    const input1 = seededFloats(41, 3 * 224 * 224, -2, 2);
    const gpu = await addon.run(session, input1, 1);
    const cpu = runPlanOnCpu(plan, weights, input1, 1);
    const err = relativeError(gpu, cpu);
    report({ check: 'resnet50-shaped fp32', relativeError: err });
    expect(err).toBeLessThan(1e-3);

    const input8 = seededFloats(42, 8 * 3 * 224 * 224, -2, 2);
    const b1 = await timeRuns(addon, session, input1, 1, 'resnet50-shaped fp32');
    const b8 = await timeRuns(addon, session, input8, 8, 'resnet50-shaped fp32');
    expect(b8.imagesPerSecond).toBeGreaterThan(b1.imagesPerSecond);

    const saved = process.env.OFSERVE_NATIVE_MATH;
    process.env.OFSERVE_NATIVE_MATH = 'tf32';
    try {
      const tf32 = open(plan, weights, 8);
      const out = await addon.run(tf32, input1, 1);
      const tfErr = relativeError(out, cpu);
      report({ check: 'resnet50-shaped tf32', relativeError: tfErr });
      expect(tfErr).toBeLessThan(3e-2);
      await timeRuns(addon, tf32, input1, 1, 'resnet50-shaped tf32');
      await timeRuns(addon, tf32, input8, 8, 'resnet50-shaped tf32');
    } finally {
      if (saved === undefined) delete process.env.OFSERVE_NATIVE_MATH;
      else process.env.OFSERVE_NATIVE_MATH = saved;
    }
  }, 300_000);
});
