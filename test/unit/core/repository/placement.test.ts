import { describe, expect, it } from 'vitest';
import { ofsError } from '../../../../src/errors.js';
import { BackendRegistry, type Backend, type DeviceKind, type ModelSource, type Session, type SessionOptions } from '../../../../src/core/backend.js';
import type { Logger } from '../../../../src/core/log.js';
import { BackendPlacement, planInstances } from '../../../../src/core/repository/placement.js';
import { FakeSession } from '../../../fixtures/fake-models.js';

class RecordingBackend implements Backend {
  readonly made: SessionOptions[] = [];
  constructor(
    readonly name: string,
    private readonly device: DeviceKind,
    private readonly refuse?: Error,
  ) {}
  async devices() {
    return [this.device];
  }
  async createSession(source: ModelSource, options: SessionOptions): Promise<Session> {
    if (this.refuse) throw this.refuse;
    this.made.push(options);
    return new FakeSession(source.graph.inputs, source.graph.outputs, () => []);
  }
}

const source: ModelSource = { model: 'm', version: '1', graph: { name: 'g', inputs: [], outputs: [], nodes: [], initializers: [], opset: 17 } };

function setup(opts: { gpu: boolean; strict?: boolean; gpuRefuses?: boolean }) {
  const warnings: string[] = [];
  const log: Logger = { info() {}, warn: (m) => warnings.push(m), error() {}, verbose() {} };
  const cpu = new RecordingBackend('cpu', 'cpu');
  const gpu = new RecordingBackend('gpu', 'gpu', opts.gpuRefuses ? ofsError('OFS_NATIVE_UNSUPPORTED', 'op Sigmoid') : undefined);
  const backends = new BackendRegistry();
  backends.register(cpu, 1);
  if (opts.gpu) backends.register(gpu, 2);
  const placement = new BackendPlacement({ backends, gpu: { available: opts.gpu, reason: opts.gpu ? 'H100' : 'no driver' }, strict: opts.strict ?? false, log });
  return { placement, cpu, gpu, warnings };
}

describe('planInstances', () => {
  it('one instance per count, gpus round-robin, threads shared', () => {
    const plan = planInstances({ max_batch_size: 8, instance_group: [{ kind: 'KIND_GPU', count: 3, gpus: [0, 1] }, { kind: 'KIND_CPU', count: 1 }] }, 8);
    expect(plan).toEqual([
      { kind: 'KIND_GPU', gpu: 0, threads: 2, spinning: false, maxBatch: 8 },
      { kind: 'KIND_GPU', gpu: 1, threads: 2, spinning: false, maxBatch: 8 },
      { kind: 'KIND_GPU', gpu: 0, threads: 2, spinning: false, maxBatch: 8 },
      { kind: 'KIND_CPU', threads: 2, spinning: false, maxBatch: 8 },
    ]);
  });

  it('gives a model with no instance_group one CPU instance, and every instance a thread', () => {
    expect(planInstances({}, 1)).toEqual([{ kind: 'KIND_CPU', threads: 1, spinning: false, maxBatch: 1 }]);
    expect(planInstances({ instance_group: [{ kind: 'KIND_CPU', count: 4 }] }, 2).every((p) => p.threads === 1)).toBe(true);
  });

  it('gives each instance intra_op_thread_count threads when the config sets it, and shares the cores when it is 0', () => {
    const config = (value: string) => ({ instance_group: [{ kind: 'KIND_CPU' as const, count: 2 }], parameters: { intra_op_thread_count: { string_value: value } } });
    expect(planInstances(config('3'), 2).map((p) => p.threads)).toEqual([3, 3]);
    expect(planInstances(config('0'), 4).map((p) => p.threads)).toEqual([2, 2]);
    // Only onnxruntime (and oneflow, run on it) reads it, as in Triton.
    expect(planInstances({ ...config('3'), backend: 'image_preprocess' }, 2).map((p) => p.threads)).toEqual([1, 1]);
  });

  it('lets the instances spin during runs only when the config asks, and hands that to the session', async () => {
    const config = (value?: string) => ({
      instance_group: [{ kind: 'KIND_CPU' as const, count: 2 }],
      ...(value === undefined ? {} : { parameters: { 'session.intra_op.allow_spinning': { string_value: value } } }),
    });
    expect(planInstances(config(), 2).map((p) => p.spinning)).toEqual([false, false]);
    expect(planInstances(config('1'), 2).map((p) => p.spinning)).toEqual([true, true]);
    expect(planInstances(config('TRUE'), 2).map((p) => p.spinning)).toEqual([true, true]);
    expect(planInstances(config('0'), 2).map((p) => p.spinning)).toEqual([false, false]);
    // A value the config rules refuse never reaches a session as "on".
    expect(planInstances(config('yes please'), 2).map((p) => p.spinning)).toEqual([false, false]);
    expect(planInstances({ ...config('1'), backend: 'image_preprocess' }, 2).map((p) => p.spinning)).toEqual([false, false]);
    const { placement, cpu } = setup({ gpu: false });
    await placement.createSessions(source, planInstances(config('1'), 2));
    expect(cpu.made.map((o) => o.spinning)).toEqual([true, true]);
  });
});

describe('BackendPlacement', () => {
  it('KIND_GPU without a GPU runs on CPU with one warning per model', async () => {
    const { placement, cpu, warnings } = setup({ gpu: false });
    await placement.createSessions(source, planInstances({ instance_group: [{ kind: 'KIND_GPU', count: 2 }] }, 2));
    expect(cpu.made.map((o) => o.device)).toEqual(['cpu', 'cpu']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/KIND_GPU.*no driver.*--strict/);
  });

  it('--strict refuses KIND_GPU without a GPU', () => {
    const { placement } = setup({ gpu: false, strict: true });
    expect(() => placement.deviceFor('m', 'KIND_GPU')).toThrow(/KIND_GPU/);
  });

  it('a model the GPU backend cannot run falls back to CPU, or is refused with --strict', async () => {
    const loose = setup({ gpu: true, gpuRefuses: true });
    const [s] = await loose.placement.createSessions(source, planInstances({ instance_group: [{ kind: 'KIND_GPU', count: 1 }] }, 1));
    expect(s).toBeDefined();
    expect(loose.cpu.made).toHaveLength(1);
    expect(loose.warnings[0]).toMatch(/runs on CPU/);
    const strict = setup({ gpu: true, gpuRefuses: true, strict: true });
    await expect(strict.placement.createSessions(source, planInstances({ instance_group: [{ kind: 'KIND_GPU', count: 1 }] }, 1))).rejects.toMatchObject({ code: 'OFS_NATIVE_UNSUPPORTED' });
  });

  it('disposes the sessions already made when a later instance fails', async () => {
    const { placement, cpu } = setup({ gpu: false, strict: true });
    const plan = planInstances({ instance_group: [{ kind: 'KIND_CPU', count: 2 }, { kind: 'KIND_GPU', count: 1 }] }, 3);
    const made: FakeSession[] = [];
    const original = cpu.createSession.bind(cpu);
    cpu.createSession = async (s, o) => {
      const session = (await original(s, o)) as FakeSession;
      made.push(session);
      return session;
    };
    await expect(placement.createSessions(source, plan)).rejects.toMatchObject({ code: 'OFS_NO_GPU' });
    expect(made).toHaveLength(2);
    expect(made.every((s) => s.disposed)).toBe(true);
  });
});
