import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../src/core/graph/builders/graph-builder.js';
import type { Graph } from '../../../../src/core/graph/ir.js';
import type { Tensor } from '../../../../src/core/tensor/tensor.js';
import { isOfsError, type ErrorCode } from '../../../../src/errors.js';
import { NativeBackend } from '../../../../src/runtime/native/backend.js';
import { FakeNativeBinding, H100 } from '../../../fixtures/fake-native-binding.js';
import { buildSmallCnn, relativeDiff } from '../../../fixtures/native-models.js';
import { fp32Tensor, fp32Values, randomValues } from '../../../fixtures/ort.js';
import { evaluate } from '../../../fixtures/reference-eval.js';

const INPUT = [3, 13, 11] as const;
const perSample = 3 * 13 * 11;
const source = (graph: Graph = buildSmallCnn({ seed: 5, softmax: false })) => ({ model: 'cnn', version: '1', graph });

async function rejection(p: Promise<unknown>): Promise<{ code: ErrorCode; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isOfsError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('NativeBackend', () => {
  it('lists gpu when init() finds a device, nothing when it finds none or throws, and calls init() once', async () => {
    const binding = new FakeNativeBinding();
    const backend = new NativeBackend(binding);
    expect(backend.name).toBe('native');
    expect(await backend.devices()).toEqual(['gpu']);
    expect(await backend.devices()).toEqual(['gpu']);
    expect(binding.initCalls).toBe(1);
    expect(await new NativeBackend(new FakeNativeBinding({ devices: [] })).devices()).toEqual([]);
    expect(await new NativeBackend(new FakeNativeBinding({ initError: 'cudaGetDeviceCount: no CUDA-capable device' })).devices()).toEqual([]);
  });

  it('runs a ResNet-style CNN end to end: plan, weights, GPU ordinal and maxBatch reach the addon; outputs match the reference', async () => {
    const binding = new FakeNativeBinding({ devices: [H100, { ...H100, ordinal: 1 }] });
    const src = source();
    const session = await new NativeBackend(binding).createSession(src, { device: 'gpu', gpu: 1, maxBatch: 2 });
    const [created] = [...binding.sessions.values()];
    expect(created).toMatchObject({ device: 1, maxBatch: 2 });
    expect(created!.plan.steps.some((s) => s.op === 'conv' && s.residual !== undefined)).toBe(true);
    expect(session.inputs).toEqual(src.graph.inputs);
    expect(session.outputs).toEqual(src.graph.outputs);

    // Batch 3 over maxBatch 2 runs as 2 + 1.
    const data = randomValues(3 * perSample, 17, 0, 1);
    const [out] = await session.run([fp32Tensor('INPUT_0', [3, ...INPUT], data)]);
    expect(binding.runs.map((r) => r.batch)).toEqual([2, 1]);
    expect(out!.name).toBe('OUTPUT_0');
    expect(out!.datatype).toBe('FP32');
    expect(out!.shape).toEqual([3, 6]);
    const ref = evaluate(src.graph, { INPUT_0: { shape: [3, ...INPUT], data } }).OUTPUT_0!;
    expect(relativeDiff(fp32Values(out!), ref.data)).toBeLessThan(1e-4);

    // An input at an odd byte offset (a view into a larger body) is copied, not misread.
    const body = new Uint8Array(perSample * 4 + 1);
    body.set(new Uint8Array(data.buffer, 0, perSample * 4), 1);
    const unaligned: Tensor = { name: 'INPUT_0', datatype: 'FP32', shape: [1, ...INPUT], data: body.subarray(1) };
    const [one] = await session.run([unaligned], ['OUTPUT_0']);
    expect(relativeDiff(fp32Values(one!), ref.data.subarray(0, 6))).toBeLessThan(1e-4);
    await session.dispose();
  });

  it('defaults maxBatch to 8 and the GPU to 0', async () => {
    const binding = new FakeNativeBinding();
    await new NativeBackend(binding).createSession(source(), { device: 'gpu' });
    expect([...binding.sessions.values()][0]).toMatchObject({ device: 0, maxBatch: 8 });
  });

  it('refuses an unsupported operator at createSession, before the addon sees the model', async () => {
    const g = new GraphBuilder();
    g.node('LeakyRelu', 'act', ['INPUT_0'], {}, 'OUTPUT_0');
    const graph = g.build('t', [{ name: 'INPUT_0', dtype: 'FP32', shape: [-1, 3, 4, 4] }], [{ name: 'OUTPUT_0', dtype: 'FP32', shape: [-1, 3, 4, 4] }]);
    const binding = new FakeNativeBinding();
    const e = await rejection(new NativeBackend(binding).createSession(source(graph), { device: 'gpu' }));
    expect(e.code).toBe('OFS_NATIVE_UNSUPPORTED');
    expect(e.message).toContain("operator 'LeakyRelu' (node 'act')");
    expect(binding.sessions.size).toBe(0);
  });

  it('refuses cpu, an absent GPU ordinal, unusable CUDA and addon failures with the reason', async () => {
    const backend = new NativeBackend(new FakeNativeBinding());
    expect(await rejection(backend.createSession(source(), { device: 'cpu' }))).toMatchObject({ code: 'OFS_SESSION_CREATE_FAILED', message: expect.stringContaining('gpu only') });
    expect((await rejection(backend.createSession(source(), { device: 'gpu', gpu: 3 }))).message).toContain('there is no GPU 3; devices: 0 (NVIDIA H100 80GB HBM3)');
    expect((await rejection(backend.createSession(source(), { device: 'gpu', maxBatch: 0 }))).message).toContain('maxBatch');
    const noCuda = new NativeBackend(new FakeNativeBinding({ initError: 'dlopen libcudnn.so.9 failed' }));
    expect((await rejection(noCuda.createSession(source(), { device: 'gpu' }))).message).toContain('CUDA is not usable: dlopen libcudnn.so.9 failed');
    const oom = new NativeBackend(new FakeNativeBinding({ createError: 'cudaMalloc: out of memory' }));
    expect(await rejection(oom.createSession(source(), { device: 'gpu' }))).toEqual({
      code: 'OFS_SESSION_CREATE_FAILED',
      message: "backend 'native' cannot load model 'cnn' version 1: cudaMalloc: out of memory",
    });
  });
});

describe('NativeSession', () => {
  async function open(binding = new FakeNativeBinding()) {
    const session = await new NativeBackend(binding).createSession(source(), { device: 'gpu', maxBatch: 4 });
    return { binding, session, handle: [...binding.sessions.values()][0]! };
  }
  const good = (batch = 1): Tensor => fp32Tensor('INPUT_0', [batch, ...INPUT], randomValues(batch * perSample, 3));

  it('rejects non-FP32, misshapen, mis-sized and misnamed inputs, and unknown outputs, without running', async () => {
    const { binding, session } = await open();
    const u8: Tensor = { name: 'INPUT_0', datatype: 'UINT8', shape: [1, ...INPUT], data: new Uint8Array(perSample) };
    expect(await rejection(session.run([u8]))).toEqual({
      code: 'OFS_INFER_INPUT',
      message: "input 'INPUT_0' has datatype UINT8; the native GPU backend takes FP32 only",
    });
    const wrongShape = fp32Tensor('INPUT_0', [1, 3, 11, 13], randomValues(perSample, 1));
    expect((await rejection(session.run([wrongShape]))).message).toContain('expected [N,3,13,11]');
    const short: Tensor = { ...good(), data: good().data.subarray(4) };
    expect((await rejection(session.run([short]))).message).toMatch(/holds \d+ bytes/);
    expect((await rejection(session.run([{ ...good(), name: 'x' }]))).message).toContain("expected exactly one input 'INPUT_0', got 'x'");
    expect(await rejection(session.run([good()], ['probs']))).toMatchObject({ code: 'OFS_INFER_OUTPUT' });
    expect(binding.runs).toHaveLength(0);
  });

  it('turns an addon failure into OFS_BACKEND_FAILED', async () => {
    const { binding, session } = await open();
    binding.runError = 'cudnnConvolutionForward: CUDNN_STATUS_EXECUTION_FAILED';
    expect(await rejection(session.run([good()]))).toEqual({
      code: 'OFS_BACKEND_FAILED',
      message: 'inference failed: native GPU backend: cudnnConvolutionForward: CUDNN_STATUS_EXECUTION_FAILED',
    });
  });

  it('disposes once, after in-flight runs finish, and refuses runs afterwards', async () => {
    const { binding, session, handle } = await open();
    let open_!: () => void;
    binding.gate = new Promise<void>((resolve) => (open_ = resolve));
    const running = session.run([good(2)]);
    await new Promise((r) => setImmediate(r));
    const first = session.dispose();
    const second = session.dispose();
    await new Promise((r) => setImmediate(r));
    expect(handle.released).toBe(0); // still running: the GPU memory must stay
    open_();
    const [out] = await running;
    expect(out!.shape).toEqual([2, 6]);
    await Promise.all([first, second, session.dispose()]);
    expect(handle.released).toBe(1);
    expect(await rejection(session.run([good()]))).toEqual({ code: 'OFS_BACKEND_FAILED', message: 'inference failed: the session was unloaded' });
  });
});
