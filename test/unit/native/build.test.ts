import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeBinding, NativeSessionHandle } from '../../../src/runtime/native/binding.js';
import type { NativePlan } from '../../../src/runtime/native/plan-format.js';
import {
  allOpsPlan,
  relativeError,
  resnet50ShapedPlan,
  runPlanOnCpu,
  seededFloats,
  tinyPlan,
  tinyPlanExpected,
  tinyPlanInput,
} from '../../fixtures/native-plans.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const hasNvcc = spawnSync('nvcc', ['--version'], { stdio: 'ignore' }).status === 0;
const hasNodeHeaders = existsSync(join(process.env.NODE_INCLUDE ?? '/usr/include/node', 'node_api.h'));
const hasGpu = existsSync('/dev/nvidia0');
const skipReason = !hasNvcc ? 'nvcc not on PATH' : !hasNodeHeaders ? 'node_api.h not found (set NODE_INCLUDE)' : '';

// Typed against binding.ts: adding or renaming a method there breaks this line at type-check time.
const bindingMethods: Record<keyof NativeBinding, true> = { init: true, createSession: true, run: true, releaseSession: true };

describe('native plan fixtures (CPU reference; no nvcc needed)', () => {
  it('the CPU plan interpreter reproduces the hand-worked tiny plan', () => {
    const { plan, weights } = tinyPlan();
    expect(Array.from(runPlanOnCpu(plan, weights, tinyPlanInput, 2))).toEqual(Array.from(tinyPlanExpected));
  });

  it('the all-ops plan ends in a softmax whose rows sum to 1 and differ per sample', () => {
    const { plan, weights } = allOpsPlan(3);
    const input = seededFloats(11, 2 * 4 * 9 * 9);
    const out = runPlanOnCpu(plan, weights, input, 2);
    expect(out.length).toBe(12);
    const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
    expect(sum(out.subarray(0, 6))).toBeCloseTo(1, 5);
    expect(sum(out.subarray(6))).toBeCloseTo(1, 5);
    expect(relativeError(out.subarray(0, 6), out.subarray(6))).toBeGreaterThan(1e-3);
  });

  it('the ResNet-50-shaped plan has torchvision resnet50 parameter count (BN folded into conv bias)', () => {
    const { plan, weights } = resnet50ShapedPlan();
    // torchvision resnet50: 25,557,032 parameters, of which BN holds 53,120 weight+bias pairs' worth
    // (2 × 26,560 channels); folding BN leaves one bias per conv channel: 25,557,032 − 53,120 + 26,560.
    expect(plan.weightCount).toBe(25_557_032 - 53_120 + 26_560);
    expect(weights.length).toBe(plan.weightCount);
    expect(plan.steps.filter((s) => s.op === 'conv')).toHaveLength(53);
  });
});

describe.skipIf(Boolean(skipReason))(`native addon built with nvcc${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let dir = '';
  let addonPath = '';
  let addon: NativeBinding;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ofs-native-'));
    execFileSync('bash', [join(root, 'scripts/build-native.sh'), '--out', dir], { stdio: 'pipe', timeout: 110_000 });
    addonPath = join(dir, 'ofserve_native.node');
    addon = createRequire(import.meta.url)(addonPath) as NativeBinding;
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exports exactly the methods of binding.ts, as functions', () => {
    expect(Object.keys(addon).sort()).toEqual(Object.keys(bindingMethods).sort());
    for (const name of Object.keys(bindingMethods)) expect(typeof (addon as unknown as Record<string, unknown>)[name]).toBe('function');
  });

  it.skipIf(hasGpu)('init() throws an Error naming the failed CUDA call and the missing libraries (no GPU here)', () => {
    const emptyDir = mkdtempSync(join(tmpdir(), 'ofs-nolibs-'));
    const saved = process.env.OFSERVE_CUDA_LIBS;
    process.env.OFSERVE_CUDA_LIBS = emptyDir;
    try {
      let error: unknown;
      try {
        addon.init();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(Error);
      const message = (error as Error).message;
      expect(message).toMatch(/^cudaGetDeviceCount: cudaError\w+ \(.+\): no usable CUDA device/);
      // Libraries may exist system-wide; when they do not, the message must say where it looked.
      if (message.includes('cuDNN not found')) {
        expect(message).toContain('libcudnn.so.9');
        expect(message).toContain(emptyDir);
        expect(message).toContain('OFSERVE_CUDA_LIBS');
      }
      // Not cached as a crash: a second call reports the same reason.
      expect(() => addon.init()).toThrow(message.slice(0, 40));
    } finally {
      if (saved === undefined) delete process.env.OFSERVE_CUDA_LIBS;
      else process.env.OFSERVE_CUDA_LIBS = saved;
      rmSync(emptyDir, { recursive: true, force: true });
    }
  });

  it.skipIf(hasGpu)('a process that calls init() without a GPU exits through a JS exception, not a signal', () => {
    const script = `try { require(${JSON.stringify(addonPath)}).init(); } catch (e) { console.log('caught:', e.message); process.exit(3); }`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/^caught: cudaGetDeviceCount/);
  });

  describe('createSession checks the plan before touching the GPU', () => {
    const valid = tinyPlan();
    const attempt = (plan: unknown, weights: Float32Array = valid.weights): string => {
      try {
        addon.createSession(typeof plan === 'string' ? plan : JSON.stringify(plan), weights, 0, 4);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    const withStep = (i: number, patch: Record<string, unknown>): NativePlan =>
      ({ ...valid.plan, steps: valid.plan.steps.map((s, j) => (j === i ? { ...s, ...patch } : s)) }) as NativePlan;

    it('rejects malformed JSON with the offset', () => {
      expect(attempt('{"version": 1,')).toMatch(/^plan JSON: .* at offset \d+/);
    });

    it('rejects another plan version', () => {
      expect(attempt({ ...valid.plan, version: 2 })).toMatch(/plan: version 2 is not supported/);
    });

    it('rejects a weights blob whose length differs from weightCount', () => {
      expect(attempt(valid.plan, new Float32Array(3))).toMatch(/weights has 3 floats, the plan's weightCount is 16/);
    });

    it('rejects a weight range past the blob', () => {
      expect(attempt(withStep(1, { bias: { offset: 15, length: 2 } }))).toMatch(/plan\.steps\[1\]\.bias .* runs past weightCount 16/);
    });

    it('rejects asymmetric conv pads, which cuDNN cannot express', () => {
      expect(attempt(withStep(0, { pads: [0, 0, 1, 0] }))).toMatch(/step 0 \(conv\): asymmetric pads \[0,0,1,0\]/);
    });

    it('rejects a conv output shape that the window arithmetic does not give', () => {
      expect(attempt(withStep(0, { strides: [2, 2] }))).toMatch(/step 0 \(conv\): y \[2,1,2\] does not match the convolution's output \[2,1,1\]/);
    });

    it('rejects a gemm whose K differs from its input size', () => {
      expect(attempt(withStep(1, { weight: { offset: 6, length: 6, shape: [2, 3] } }))).toMatch(/step 1 \(gemm\): x has 4 elements per sample, weight expects K = 3/);
    });

    it('rejects a step that names an undeclared tensor, and an unknown op', () => {
      expect(attempt(withStep(1, { x: 9 }))).toMatch(/plan\.steps\[1\]\.x names undeclared tensor 9/);
      expect(attempt(withStep(1, { op: 'sigmoid' }))).toMatch(/plan\.steps\[1\]\.op 'sigmoid' is not an operation/);
    });

    it.skipIf(hasGpu)('accepts a valid plan and then fails on the missing GPU or libraries', () => {
      for (const c of [valid, allOpsPlan(), resnet50ShapedPlan()]) {
        const message = attempt(c.plan, c.weights);
        expect(message).not.toMatch(/^plan/);
        expect(message).toMatch(/cuDNN not found|cuBLAS not found|^cuda\w+:/);
      }
    });

    it('throws TypeError for arguments of the wrong type', () => {
      expect(() => addon.createSession(JSON.stringify(valid.plan), [1, 2] as unknown as Float32Array, 0, 1)).toThrow(TypeError);
      expect(() => addon.createSession(JSON.stringify(valid.plan), valid.weights, 0, 0)).toThrow(/maxBatch must be an integer/);
    });
  });

  it('run() rejects (never throws) and releaseSession() throws TypeError for a handle it did not make', async () => {
    const bogus = {} as NativeSessionHandle;
    await expect(addon.run(bogus, new Float32Array(8), 1)).rejects.toThrow(TypeError);
    expect(() => addon.releaseSession(bogus)).toThrow(/handle returned by createSession/);
  });
});
