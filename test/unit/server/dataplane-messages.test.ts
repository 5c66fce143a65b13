import { describe, expect, it } from 'vitest';
import { DataPlane } from '../../../src/server/dataplane.js';
import { FakeCatalog, i32, sumModel } from '../../fixtures/fake-models.js';

/** The data plane's messages users read: Triton's wording first, then what ofserve adds to help. */

const input = (name: string, shape: number[]) => ({ name, datatype: 'INT32', shape, data: i32(name, shape, new Array(16).fill(1)).data });

describe('unknown model', () => {
  it("keeps Triton's message, then lists the models the repository has", async () => {
    const dp = new DataPlane({ catalog: new FakeCatalog(true).add(sumModel({ name: 'simple' }), sumModel({ name: 'adder' })) });
    const e = await dp.infer({ model: 'simpel', inputs: [] }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'OFS_MODEL_UNKNOWN', kind: 'NOT_FOUND' });
    expect((e as Error).message).toBe("Request for unknown model: 'simpel' is not found; available models: adder, simple");
    expect(() => dp.modelMetadata('x')).toThrow("Request for unknown model: 'x' is not found; available models: adder, simple");
  });

  it('says so when the repository is empty, and cuts a long list short', () => {
    expect(() => new DataPlane({ catalog: new FakeCatalog(true) }).modelConfig('x')).toThrow(
      "Request for unknown model: 'x' is not found; the repository has no models",
    );
    const many = Array.from({ length: 25 }, (_, i) => sumModel({ name: `m${String(i).padStart(2, '0')}` }));
    const dp = new DataPlane({ catalog: new FakeCatalog(true).add(...many) });
    expect(() => dp.modelReady('x')).toThrow(/available models: m00, m01, .*, m19 and 5 more$/);
  });
});

describe('shape without the batch dimension', () => {
  it("carries Triton's whole NOTE on max_batch_size", async () => {
    const dp = new DataPlane({ catalog: new FakeCatalog(true).add(sumModel({ maxBatchSize: 8 })) });
    const e = await dp.infer({ model: 'simple', inputs: [input('INPUT0', [16]), input('INPUT1', [16])] }).catch((x: unknown) => x);
    expect((e as Error).message).toBe(
      "unexpected shape for input 'INPUT0' for model 'simple'. Expected [-1,16], got [16]. " +
        'NOTE: Setting a non-zero max_batch_size in the model config requires a batch dimension to be prepended to each input shape. ' +
        'If you want to specify the full shape including the batch dim in your input dims config, try setting max_batch_size to zero. ' +
        'See the model configuration docs for more info on max_batch_size.',
    );
  });
});
