import { describe, expect, it } from 'vitest';
import { parseBytesElements } from '../../../src/core/tensor/bytes.js';
import { DataPlane, rawInputOf } from '../../../src/server/dataplane.js';
import { FakeCatalog, fakeModel } from '../../fixtures/fake-models.js';

/** A model taking one encoded file per batch item, answering each element's byte length. */
function lengths(dims: number[] = [1]) {
  return fakeModel({
    name: 'files',
    maxBatchSize: 4,
    inputs: [{ name: 'FILE', dtype: 'BYTES', shape: dims }],
    outputs: [{ name: 'LEN', dtype: 'FP32', shape: [1] }],
    compute: (inputs) => {
      const items = parseBytesElements(inputs[0].data) ?? [];
      return [{ name: 'LEN', datatype: 'FP32', shape: [items.length, 1], data: new Uint8Array(Float32Array.from(items.map((i) => i.length)).buffer) }];
    },
  });
}

describe('BYTES inputs', () => {
  it('a raw binary request to a BYTES input is one element: the whole body, prefixed by the server', async () => {
    const model = lengths();
    const body = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    const input = rawInputOf(model, body);
    expect(input).toMatchObject({ name: 'FILE', datatype: 'BYTES', shape: [1, 1] });
    expect(parseBytesElements(input.data)?.map((e) => Array.from(e))).toEqual([Array.from(body)]);
    const dataplane = new DataPlane({ catalog: new FakeCatalog().add(model) });
    const result = await dataplane.infer({ model: 'files', inputs: [], rawInput: body });
    expect(Array.from(new Float32Array(result.outputs[0].data.slice().buffer))).toEqual([7]);
  });

  it('refuses a raw request when the BYTES input takes more than one element', () => {
    expect(() => rawInputOf(lengths([2]), Uint8Array.from([1]))).toThrow("input 'FILE' takes more than one BYTES element");
  });

  it('a batch of length-prefixed elements reaches the model as sent', async () => {
    const dataplane = new DataPlane({ catalog: new FakeCatalog().add(lengths()) });
    const data = Uint8Array.from([2, 0, 0, 0, 9, 9, 0, 0, 0, 0]);
    const result = await dataplane.infer({ model: 'files', inputs: [{ name: 'FILE', datatype: 'BYTES', shape: [2, 1], data }] });
    expect(Array.from(new Float32Array(result.outputs[0].data.slice().buffer))).toEqual([2, 0]);
    await expect(dataplane.infer({ model: 'files', inputs: [{ name: 'FILE', datatype: 'BYTES', shape: [2, 1], data: data.subarray(0, 7) }] })).rejects.toThrow(
      "expected 2 string elements for inference input 'FILE' for model 'files', got malformed BYTES data",
    );
  });
});
