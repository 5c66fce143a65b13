import { describe, expect, it } from 'vitest';
import { DataPlane } from '../../../src/server/dataplane.js';
import { parseBytesElements } from '../../../src/core/tensor/bytes.js';
import { FakeCatalog, classifierModel, errorModel, fakeModel, f32, i32, readF32, readI32, sumModel } from '../../fixtures/fake-models.js';

const i32Input = (name: string, shape: number[], values: number[]) => {
  const t = i32(name, shape, values);
  return { name, datatype: 'INT32', shape, data: t.data };
};
const ones = (n: number) => new Array(n).fill(1);

function plane(...models: ReturnType<typeof sumModel>[]) {
  const catalog = new FakeCatalog(true).add(...models);
  return { dp: new DataPlane({ catalog, serverVersion: '2.99.0' }), catalog };
}

describe('DataPlane metadata', () => {
  it('reports server metadata with the extensions we implement', () => {
    const { dp } = plane(sumModel());
    const md = dp.serverMetadata();
    expect(md.name).toBe('triton');
    expect(md.version).toBe('2.99.0');
    expect(md.extensions).toEqual(expect.arrayContaining(['classification', 'binary_tensor_data', 'model_configuration', 'model_repository', 'statistics', 'parameters']));
    expect(md.extensions).not.toContain('system_shared_memory');
  });

  it('prefixes -1 to shapes of batching models and falls back to backend for platform', () => {
    const { dp } = plane(sumModel({ maxBatchSize: 8 }));
    expect(dp.modelMetadata('simple')).toEqual({
      name: 'simple',
      versions: ['1'],
      platform: 'fake',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [-1, 16] },
        { name: 'INPUT1', datatype: 'INT32', shape: [-1, 16] },
      ],
      outputs: [
        { name: 'OUTPUT0', datatype: 'INT32', shape: [-1, 16] },
        { name: 'OUTPUT1', datatype: 'INT32', shape: [-1, 16] },
      ],
    });
    const { dp: dp0 } = plane(sumModel({ maxBatchSize: 0 }));
    expect(dp0.modelMetadata('simple').inputs[0].shape).toEqual([16]);
  });

  it('lists the requested version or every ready version', () => {
    const v1 = fakeModel({ ...specOf('m'), version: '1' });
    const v3 = fakeModel({ ...specOf('m'), version: '3' });
    const dp = new DataPlane({ catalog: new FakeCatalog().add(v1, v3) });
    expect(dp.modelMetadata('m').versions).toEqual(['1', '3']);
    expect(dp.modelMetadata('m', '1').versions).toEqual(['1']);
  });

  it('tells not-ready versions from unknown models', () => {
    const catalog = new FakeCatalog().add(sumModel()).addUnavailable('broken', 'failed to load');
    const dp = new DataPlane({ catalog });
    expect(dp.modelReady('simple')).toBe(true);
    expect(dp.modelReady('broken')).toBe(false);
    expect(dp.modelReady('simple', '7')).toBe(false);
    expect(() => dp.modelReady('nope')).toThrow("Request for unknown model: 'nope' is not found");
    expect(dp.ready()).toBe(true); // a failed model is skipped by strict readiness, as in Triton
    expect(dp.repositoryIndex()).toEqual([
      { name: 'broken', state: 'UNAVAILABLE', reason: 'failed to load' },
      { name: 'simple', version: '1', state: 'READY' },
    ]);
    expect(dp.repositoryIndex(true)).toEqual([{ name: 'simple', version: '1', state: 'READY' }]);
  });
});

function specOf(name: string) {
  return {
    name,
    inputs: [{ name: 'X', dtype: 'FP32' as const, shape: [2] }],
    outputs: [{ name: 'Y', dtype: 'FP32' as const, shape: [2] }],
    compute: () => [f32('Y', [2], [0, 0])],
  };
}

describe('DataPlane.infer', () => {
  it('runs a valid request and returns the outputs in the requested order', async () => {
    const { dp } = plane(sumModel());
    const res = await dp.infer({
      model: 'simple',
      id: 'abc',
      inputs: [i32Input('INPUT0', [1, 16], ones(16).map((_, i) => i)), i32Input('INPUT1', [1, 16], ones(16))],
      outputs: [{ name: 'OUTPUT1' }, { name: 'OUTPUT0' }],
    });
    expect(res.id).toBe('abc');
    expect(res.outputs.map((t) => t.name)).toEqual(['OUTPUT1', 'OUTPUT0']);
    expect(readI32(res.outputs[1])).toEqual(ones(16).map((_, i) => i + 1));
    expect(readI32(res.outputs[0])).toEqual(ones(16).map((_, i) => i - 1));
  });

  const bad: [string, Parameters<DataPlane['infer']>[0]['inputs'], string][] = [
    ['unknown input', [i32Input('INPUT0', [1, 16], ones(16)), i32Input('INPUT1', [1, 16], ones(16)), i32Input('EXTRA', [1], [1])], "unexpected inference input 'EXTRA' for model 'simple'"],
    ['missing input', [i32Input('INPUT0', [1, 16], ones(16))], "expected 2 inputs but got 1 inputs for model 'simple'. Got input(s) ['INPUT0'], but missing required input(s) ['INPUT1']"],
    ['wrong datatype', [{ ...i32Input('INPUT0', [1, 16], ones(16)), datatype: 'FP32' }, i32Input('INPUT1', [1, 16], ones(16))], "inference input 'INPUT0' data-type is 'FP32', but model 'simple' expects 'INT32'"],
    ['wrong dims', [i32Input('INPUT0', [1, 15], ones(15)), i32Input('INPUT1', [1, 16], ones(16))], "unexpected shape for input 'INPUT0' for model 'simple'. Expected [-1,16], got [1,15]"],
    ['no batch dim', [i32Input('INPUT0', [16], ones(16)), i32Input('INPUT1', [16], ones(16))], "unexpected shape for input 'INPUT0' for model 'simple'. Expected [-1,16], got [16]"],
    ['batch too large', [i32Input('INPUT0', [9, 16], ones(144)), i32Input('INPUT1', [9, 16], ones(144))], "inference request batch-size must be <= 8 for 'simple'"],
    ['byte size', [{ ...i32Input('INPUT0', [1, 16], ones(16)), data: new Uint8Array(60) }, i32Input('INPUT1', [1, 16], ones(16))], "input byte size mismatch for input 'INPUT0' for model 'simple'. Expected 64, got 60"],
  ];
  for (const [what, inputs, message] of bad) {
    it(`rejects ${what} with a clear message and counts the failure`, async () => {
      const model = sumModel();
      const { dp } = plane(model);
      const err = await dp.infer({ model: 'simple', inputs }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: expect.stringMatching(/^OFS_INFER_INPUT$/), kind: 'INVALID_ARG' });
      expect((err as Error).message).toContain(message);
      expect(model.stats.snapshot().failures_by_reason.OTHER).toBe(1);
      expect(model.sessions[0].runs).toHaveLength(0);
    });
  }

  it('rejects unknown requested outputs and unknown models', async () => {
    const { dp } = plane(sumModel());
    const inputs = [i32Input('INPUT0', [1, 16], ones(16)), i32Input('INPUT1', [1, 16], ones(16))];
    await expect(dp.infer({ model: 'simple', inputs, outputs: [{ name: 'NOPE' }] })).rejects.toThrow("unexpected inference output 'NOPE' for model 'simple'");
    await expect(dp.infer({ model: 'x', inputs })).rejects.toMatchObject({ message: "Request for unknown model: 'x' is not found", kind: 'NOT_FOUND' });
    await expect(dp.infer({ model: 'simple', inputs, parameters: { triton_x: 1 } })).rejects.toThrow(/reserved for Triton usage/);
  });

  it('classifies with the model labels, per batch row', async () => {
    const scores = [0.25, 3, -1, 2];
    const model = classifierModel({ scores, labels: ['zero', 'one', '', 'three'], maxBatchSize: 2 });
    const dp = new DataPlane({ catalog: new FakeCatalog().add(model) });
    const input = f32('INPUT_0', [2, 3, 224, 224], new Float32Array(2 * 3 * 224 * 224));
    const res = await dp.infer({ model: 'resnet50', inputs: [{ ...input, datatype: 'FP32' }], outputs: [{ name: 'OUTPUT_0', classification: 2 }] });
    const out = res.outputs[0];
    expect(out.datatype).toBe('BYTES');
    expect(out.shape).toEqual([2, 2]);
    expect(parseBytesElements(out.data)?.map((b) => Buffer.from(b).toString())).toEqual([
      '3.000000:1:one', '2.000000:3:three', '3.000000:1:one', '2.000000:3:three',
    ]);
  });

  it('refuses classification on unsupported output types before running', async () => {
    const model = fakeModel({ ...specOf('h'), outputs: [{ name: 'Y', dtype: 'FP16', shape: [2] }] });
    const dp = new DataPlane({ catalog: new FakeCatalog().add(model) });
    const x = f32('X', [2], [1, 2]);
    await expect(dp.infer({ model: 'h', inputs: [x], outputs: [{ name: 'Y', classification: 1 }] })).rejects.toThrow(
      "class result not available for output due to unsupported type 'FP16'",
    );
  });

  it('deduces a raw input from the model config, batch 1', async () => {
    const model = fakeModel({
      name: 'raw',
      maxBatchSize: 4,
      inputs: [{ name: 'X', dtype: 'FP32', shape: [-1] }],
      outputs: [{ name: 'Y', dtype: 'FP32', shape: [-1] }],
      compute: (inputs) => [{ ...inputs[0], name: 'Y' }],
    });
    const dp = new DataPlane({ catalog: new FakeCatalog().add(model) });
    const res = await dp.infer({ model: 'raw', inputs: [], rawInput: f32('X', [3], [1, 2, 3]).data });
    expect(res.outputs[0].shape).toEqual([1, 3]);
    expect(readF32(res.outputs[0])).toEqual([1, 2, 3]);
  });

  it('reports statistics for one, all and versioned models', async () => {
    const { dp } = plane(sumModel());
    await dp.infer({ model: 'simple', inputs: [i32Input('INPUT0', [2, 16], ones(32)), i32Input('INPUT1', [2, 16], ones(32))] });
    const all = dp.statistics();
    expect(all.model_stats).toHaveLength(1);
    const s = all.model_stats[0];
    expect(s).toMatchObject({ name: 'simple', version: '1', inference_count: 2, execution_count: 1 });
    expect(s.inference_stats.success.count).toBe(1);
    expect(s.inference_stats.cache_hit).toEqual({ count: 0, ns: 0 });
    expect(s.batch_stats[0].batch_size).toBe(2);
    expect(s.last_inference).toBeGreaterThan(0);
    expect(dp.statistics('simple', '1').model_stats[0].name).toBe('simple');
    expect(() => dp.statistics('nope')).toThrow("Request for unknown model: 'nope' is not found");
  });

  it('surfaces backend failures as INTERNAL', async () => {
    const dp = new DataPlane({ catalog: new FakeCatalog().add(errorModel({ message: 'kaput' })) });
    await expect(dp.infer({ model: 'error', inputs: [{ ...f32('INPUT', [1], [1]) }] })).rejects.toMatchObject({
      kind: 'INTERNAL',
      message: 'inference failed: kaput',
    });
  });
});
