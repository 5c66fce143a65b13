import { describe, expect, it } from 'vitest';
import { inferImageShape, parseImageSize } from '../../../src/image/image-shape.js';
import type { ModelMetadata } from '../../../src/client/v2-types.js';

const meta = (shape: number[], datatype = 'FP32'): ModelMetadata => ({
  name: 'm',
  versions: ['1'],
  platform: 'onnxruntime_onnx',
  inputs: [{ name: 'INPUT_0', datatype, shape }],
  outputs: [{ name: 'OUTPUT_0', datatype: 'FP32', shape: [-1, 1000] }],
});

describe('inferImageShape', () => {
  it('reads NCHW from batched metadata', () => {
    expect(inferImageShape(meta([-1, 3, 224, 200]))).toEqual({
      inputName: 'INPUT_0',
      datatype: 'FP32',
      width: 200,
      height: 224,
      layout: 'NCHW',
      imageDims: [3, 224, 200],
      leadingDim: true,
      sizeFrom: 'model',
    });
  });

  it('takes a variable H and W from the size given, else 224x224, and says which', () => {
    const byDefault = inferImageShape(meta([-1, 3, -1, -1]));
    expect([byDefault.height, byDefault.width, byDefault.sizeFrom]).toEqual([224, 224, 'default']);
    const given = inferImageShape(meta([-1, 3, -1, -1]), 'm', parseImageSize('320x480'));
    expect([given.height, given.width, given.sizeFrom, given.imageDims]).toEqual([320, 480, 'option', [3, 320, 480]]);
    // One fixed dim: the size must agree with it.
    expect(inferImageShape(meta([-1, 3, 224, -1]), 'm', parseImageSize('224x100')).width).toBe(100);
    expect(() => inferImageShape(meta([-1, 3, 224, -1]), 'm', parseImageSize('100x100'))).toThrow(/contradicts model 'm'.*fixes H=224/);
    expect(parseImageSize('96')).toEqual({ width: 96, height: 96 });
    for (const bad of ['0x5', '5x', 'axb', '', '1.5x2']) expect(() => parseImageSize(bad)).toThrow(/--size must be HxW/);
  });

  it('reads NHWC from unbatched metadata', () => {
    const s = inferImageShape(meta([64, 32, 3]));
    expect([s.layout, s.height, s.width, s.leadingDim]).toEqual(['NHWC', 64, 32, false]);
    expect(s.imageDims).toEqual([64, 32, 3]);
  });

  it('reads a config, honouring format and mapping TYPE_FP32 to FP32', () => {
    const s = inferImageShape({
      name: 'c',
      max_batch_size: 8,
      input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3, 3, 3], format: 'FORMAT_NHWC' }],
    });
    expect([s.layout, s.datatype, s.height, s.width]).toEqual(['NHWC', 'FP32', 3, 3]);
  });

  it('fills variable spatial dims with 224', () => {
    const s = inferImageShape(meta([-1, 3, -1, -1]));
    expect([s.width, s.height]).toEqual([224, 224]);
    expect(s.imageDims).toEqual([3, 224, 224]);
  });

  it('refuses non-image inputs with OFS_NOT_IMAGE_MODEL', () => {
    expect(() => inferImageShape(meta([-1, 10]))).toThrow(expect.objectContaining({ code: 'OFS_NOT_IMAGE_MODEL' }));
    expect(() => inferImageShape(meta([-1, 4, 8, 8]))).toThrow(/\[-1,4,8,8\]/);
    expect(() => inferImageShape({ name: 'two', input: [{ name: 'a' }, { name: 'b' }] })).toThrow(/2 inputs/);
  });
});
