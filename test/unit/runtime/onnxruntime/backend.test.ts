import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Session } from '../../../../src/core/backend.js';
import { GraphBuilder } from '../../../../src/core/graph/builders/graph-builder.js';
import { attr, type Graph } from '../../../../src/core/graph/ir.js';
import { isOfsError } from '../../../../src/errors.js';
import { OrtBackend } from '../../../../src/runtime/onnxruntime/backend.js';
import { colourClassifierOnnx } from '../../../fixtures/models.js';
import { fp32Tensor, fp32Values, maxAbsDiff, randomValues } from '../../../fixtures/ort.js';
import { evaluate } from '../../../fixtures/reference-eval.js';

const backend = new OrtBackend();
const cpu = { device: 'cpu' as const, threads: 1 };

/** A small CNN touching every op and attribute the reference evaluator knows, with random weights. */
function tinyCnn(): Graph {
  const g = new GraphBuilder();
  let seed = 10;
  const w = (name: string, shape: number[]) => g.float32(name, shape, randomValues(shape.reduce((a, b) => a * b, 1), seed++, -0.5, 0.5));
  const c1 = g.node('Conv', 'c1', ['x', w('c1.w', [6, 2, 3, 3]), w('c1.b', [6])], {
    group: attr.int(2),
    strides: attr.ints([2, 2]),
    pads: attr.ints([1, 0, 2, 1]),
    kernel_shape: attr.ints([3, 3]),
  });
  const bnScale = g.float32('bn.s', [6], randomValues(6, 1, 0.5, 1.5));
  const bnVar = g.float32('bn.v', [6], randomValues(6, 2, 0.5, 2));
  const bn = g.node('BatchNormalization', 'bn', [c1, bnScale, w('bn.b', [6]), w('bn.m', [6]), bnVar], { epsilon: attr.float(1e-3) });
  const r = g.node('Relu', 'relu', [bn]);
  const c2 = g.node('Conv', 'c2', [r, w('c2.w', [6, 6, 3, 3])], { dilations: attr.ints([2, 2]), pads: attr.ints([2, 2, 2, 2]) });
  const sum = g.node('Add', 'add', [c2, r]);
  const mp = g.node('MaxPool', 'mp', [sum], { kernel_shape: attr.ints([2, 2]), pads: attr.ints([0, 0, 1, 1]) });
  const ap = g.node('AveragePool', 'ap', [mp], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) });
  const flat = g.node('Reshape', 'reshape', [ap, g.int64('shape', [0, -1])]);
  const mm = g.node('MatMul', 'mm', [flat, w('mm.w', [120, 10])]);
  const biased = g.node('Add', 'bias', [mm, w('mm.b', [10])]);
  const logits = g.node('Gemm', 'gemm', [biased, w('gemm.w', [5, 10]), w('gemm.c', [5])], {
    transB: attr.int(1),
    alpha: attr.float(0.5),
    beta: attr.float(2),
  });
  const probs = g.node('Softmax', 'softmax', [logits], { axis: attr.int(1) });
  g.node('Identity', 'probs', [probs], {}, 'probs');
  const gap = g.node('GlobalAveragePool', 'gap', [ap]);
  g.node('Flatten', 'pooled', [gap], { axis: attr.int(1) }, 'pooled');
  return g.build(
    'tiny',
    [{ name: 'x', dtype: 'FP32', shape: [-1, 4, 9, 9] }],
    [
      { name: 'probs', dtype: 'FP32', shape: [-1, 5] },
      { name: 'gemm', dtype: 'FP32', shape: [-1, 5] },
      { name: 'pooled', dtype: 'FP32', shape: [-1, 6] },
    ],
  );
}

async function expectBackendFailure(p: Promise<unknown>, message: RegExp): Promise<void> {
  const e = await p.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err,
  );
  expect(isOfsError(e) && e.code).toBe('OFS_BACKEND_FAILED');
  expect((e as Error).message).toMatch(message);
}

describe('OrtBackend', () => {
  it('is the onnxruntime backend, on CPU', async () => {
    expect(backend.name).toBe('onnxruntime');
    expect(await backend.devices()).toEqual(['cpu']);
  });

  describe('colour classifier', () => {
    const model = colourClassifierOnnx();
    let session: Session;
    beforeAll(async () => {
      session = await backend.createSession({ model: 'colours', version: '1', graph: model.graph, onnx: model.onnx }, cpu);
    });
    afterAll(() => session.dispose());

    it('matches the reference evaluator on random images', async () => {
      const data = randomValues(3 * 3 * 224 * 224, 7, 0, 1);
      const [out] = await session.run([fp32Tensor('INPUT_0', [3, 3, 224, 224], data)]);
      const ref = evaluate(model.graph, { INPUT_0: { shape: [3, 3, 224, 224], data } }).OUTPUT_0!;
      expect(out).toMatchObject({ name: 'OUTPUT_0', datatype: 'FP32', shape: [3, model.labels.length] });
      expect(maxAbsDiff(fp32Values(out!), ref.data)).toBeLessThan(1e-4);
    });

    it('classifies solid red, green and blue images', async () => {
      const hw = 224 * 224;
      const data = new Float32Array(3 * 3 * hw);
      for (let i = 0; i < 3; i++) data.fill(1, (i * 3 + i) * hw, (i * 3 + i + 1) * hw);
      const [out] = await session.run([fp32Tensor('INPUT_0', [3, 3, 224, 224], data)]);
      const scores = fp32Values(out!);
      const k = model.labels.length;
      const top = [0, 1, 2].map((i) => {
        const row = scores.subarray(i * k, (i + 1) * k);
        return model.labels[row.indexOf(Math.max(...row))];
      });
      expect(top).toEqual(['red', 'green', 'blue']);
    });

    it('accepts input bytes at an unaligned offset and leaves the caller’s buffer intact', async () => {
      const values = randomValues(3 * 224 * 224, 8, 0, 1);
      const body = new Uint8Array(values.byteLength + 1);
      body.set(new Uint8Array(values.buffer), 1);
      const input = { name: 'INPUT_0', datatype: 'FP32' as const, shape: [1, 3, 224, 224], data: body.subarray(1) };
      const [out] = await session.run([input]);
      expect(body.byteLength).toBe(values.byteLength + 1); // not transferred away
      const ref = evaluate(model.graph, { INPUT_0: { shape: [1, 3, 224, 224], data: values } }).OUTPUT_0!;
      expect(maxAbsDiff(fp32Values(out!), ref.data)).toBeLessThan(1e-4);
    });

    it('reports a wrong input shape as OFS_BACKEND_FAILED with ORT’s message, and keeps working', async () => {
      const bad = fp32Tensor('INPUT_0', [1, 4, 224, 224], new Float32Array(4 * 224 * 224));
      await expectBackendFailure(session.run([bad]), /^inference failed: .*invalid dimensions.*INPUT_0/i);
      await expectBackendFailure(session.run([fp32Tensor('INPUT_0', [1, 3, 224, 224], new Float32Array(5))]), /bytes do not hold shape/);
      const [out] = await session.run([fp32Tensor('INPUT_0', [1, 3, 224, 224], new Float32Array(3 * 224 * 224))]);
      expect(out!.shape).toEqual([1, model.labels.length]);
    });
  });

  it('runs a small CNN like the reference evaluator, returning the outputs asked for in that order', async () => {
    const graph = tinyCnn();
    const session = await backend.createSession({ model: 'tiny', version: '1', graph }, { device: 'cpu' });
    try {
      const data = randomValues(2 * 4 * 9 * 9, 99);
      const ref = evaluate(graph, { x: { shape: [2, 4, 9, 9], data } });
      const all = await session.run([fp32Tensor('x', [2, 4, 9, 9], data)]);
      expect(all.map((t) => [t.name, t.shape])).toEqual([['probs', [2, 5]], ['gemm', [2, 5]], ['pooled', [2, 6]]]);
      for (const t of all) expect(maxAbsDiff(fp32Values(t), ref[t.name]!.data), t.name).toBeLessThan(1e-4);
      const picked = await session.run([fp32Tensor('x', [2, 4, 9, 9], data)], ['pooled', 'probs']);
      expect(picked.map((t) => t.name)).toEqual(['pooled', 'probs']);
      await expectBackendFailure(session.run([fp32Tensor('x', [2, 4, 9, 9], data)], ['nope']), /nope/);
    } finally {
      await session.dispose();
    }
  });

  it('runs with its two intra-op threads spinning during runs (session.intra_op.allow_spinning), as without', async () => {
    const graph = tinyCnn();
    const data = randomValues(3 * 4 * 9 * 9, 7);
    const ref = evaluate(graph, { x: { shape: [3, 4, 9, 9], data } });
    const session = await backend.createSession({ model: 'tiny', version: '1', graph }, { device: 'cpu', threads: 2, spinning: true });
    try {
      for (let i = 0; i < 3; i++) {
        const all = await session.run([fp32Tensor('x', [3, 4, 9, 9], data)]);
        for (const t of all) expect(maxAbsDiff(fp32Values(t), ref[t.name]!.data), t.name).toBeLessThan(1e-4);
      }
    } finally {
      await session.dispose();
    }
  });

  it('rejects a model ORT cannot load with OFS_SESSION_CREATE_FAILED', async () => {
    const { graph } = colourClassifierOnnx();
    const e = await backend
      .createSession({ model: 'junk', version: '3', graph, onnx: new TextEncoder().encode('not a model') }, cpu)
      .catch((err: unknown) => err);
    expect(isOfsError(e) && e.code).toBe('OFS_SESSION_CREATE_FAILED');
    expect((e as Error).message).toMatch(/'junk' version 3/);
  });

  it('rejects in-flight and later runs once disposed', async () => {
    const model = colourClassifierOnnx();
    const session = await backend.createSession({ model: 'c', version: '1', graph: model.graph }, cpu);
    const input = fp32Tensor('INPUT_0', [8, 3, 224, 224], new Float32Array(8 * 3 * 224 * 224));
    const inFlight = session.run([input]);
    const settled = inFlight.then(() => undefined, () => undefined); // handled before dispose rejects it
    await session.dispose();
    await settled;
    await expectBackendFailure(inFlight, /unloaded/);
    await expectBackendFailure(session.run([input]), /unloaded/);
    await session.dispose(); // idempotent
  });
});
