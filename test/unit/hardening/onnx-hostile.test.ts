/**
 * Hostile ONNX bytes: truncations and mutations of a real model, and hand-built models whose
 * initializers claim shapes their data does not hold. Every failure is OFS_MODEL_FORMAT naming the
 * file, and nothing is allocated by a claimed shape before the data is known to match it.
 */
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { readOnnxModel } from '../../../src/core/graph/onnx-reader.js';
import { expectOfsOrSuccess, memoryInUse, mutate, prng } from '../../fixtures/hostile.js';
import { colourClassifierOnnx } from '../../fixtures/models.js';

const { onnx } = onnxProto;
const FILE = 'models/x/1/model.onnx';

/** A one-node model (Identity of X) with one FP32 initializer `W` as given. */
function modelWith(init: Partial<onnxProto.onnx.ITensorProto>, inputDims: number[] = [1]): Uint8Array {
  const tensorType = (dims: number[]) => ({
    tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } },
  });
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'g',
      node: [{ opType: 'Identity', input: ['X'], output: ['Y'], name: 'id' }],
      input: [{ name: 'X', type: tensorType(inputDims) }],
      output: [{ name: 'Y', type: tensorType(inputDims) }],
      initializer: [{ name: 'W', dataType: 1, ...init }],
    },
  }).finish();
}

describe('hostile ONNX models', () => {
  it('sanity: the colour classifier reads', () => {
    expect(readOnnxModel(colourClassifierOnnx().onnx, FILE).nodes.length).toBeGreaterThan(0);
  });

  it('fuzz: 300 truncations and mutations read, or fail with an OfsError naming the file', async () => {
    const valid = colourClassifierOnnx().onnx;
    const rnd = prng(99);
    for (let i = 0; i < 300; i++) {
      const bytes = i < 60 ? valid.subarray(0, Math.floor(rnd() * valid.length)) : mutate(valid, rnd);
      const e = await expectOfsOrSuccess(() => readOnnxModel(bytes, FILE), `case ${i}`);
      if (e) expect(e.message).toContain(FILE);
    }
  });

  it('refuses initializers whose dims do not match their data, before allocating for the dims', async () => {
    const before = memoryInUse();
    const cases: Partial<onnxProto.onnx.ITensorProto>[] = [
      { dims: [2 ** 20, 2 ** 20] }, // 4 TiB of FP32, no data at all
      { dims: [2 ** 28] }, // 1 GiB, no data
      { dims: [2 ** 40], floatData: [1, 2, 3] },
      { dims: [-1], floatData: [1] },
      { dims: [-4, -1], floatData: [1, 2, 3, 4] },
      { dims: [2 ** 53 + 2], floatData: [1] },
      { dims: [1000], rawData: new Uint8Array(12) },
      { dims: [3], rawData: new Uint8Array(11) },
      { dims: [2 ** 31, 2 ** 31], rawData: new Uint8Array(16) },
    ];
    for (const init of cases) {
      const e = await expectOfsOrSuccess(() => readOnnxModel(modelWith(init), FILE), JSON.stringify(init.dims));
      expect(e, JSON.stringify(init.dims)).toBeDefined();
      expect(e?.message).toMatch(/model\.onnx.*initializer 'W'/);
    }
    expect(memoryInUse() - before).toBeLessThan(64 * 1024 * 1024);
    // The honest version of the same initializer reads.
    expect(readOnnxModel(modelWith({ dims: [3], floatData: [1, 2, 3] }), FILE).initializers[0].shape).toEqual([3]);
  });

  it('reads huge graph input dims as metadata without allocating for them', () => {
    const before = memoryInUse();
    const g = readOnnxModel(modelWith({ dims: [1], floatData: [1] }, [2 ** 40, 2 ** 40]), FILE);
    expect(g.inputs[0].shape).toEqual([2 ** 40, 2 ** 40]);
    expect(memoryInUse() - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('refuses garbage bytes and empty files', async () => {
    for (const bytes of [new Uint8Array(0), Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff]), new TextEncoder().encode('not a model'), new Uint8Array(1000).fill(0x0a)]) {
      const e = await expectOfsOrSuccess(() => readOnnxModel(bytes, FILE), 'garbage');
      expect(e?.message).toContain(FILE);
    }
  });
});
