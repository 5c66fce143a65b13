import { describe, expect, it } from 'vitest';
import { readImagePreprocess } from '../../../../src/core/config/image-preprocess.js';
import { parsePbtxt } from '../../../../src/core/config/pbtxt-parse.js';

const FILE = 'pre/config.pbtxt';
const IO = `input [ { name: "IMAGE" data_type: TYPE_STRING dims: [ 1 ] } ]`;
const param = (k: string, v: string) => `parameters { key: "${k}" value { string_value: "${v}" } }`;
const read = (text: string) => readImagePreprocess(parsePbtxt(`backend: "image_preprocess" ${text}`, FILE), FILE);
const problems = (text: string) => read(text).problems.map((p) => `${p.severity} ${p.field}: ${p.message}`);

describe('readImagePreprocess', () => {
  it('defaults: squash, layout from the dims, ÷255, no mean/std, RGB', () => {
    const { settings, problems: p } = read(`max_batch_size: 8 ${IO} output [ { name: "PIXELS" data_type: TYPE_FP32 dims: [ 3, 224, 200 ] } ]`);
    expect(p).toEqual([]);
    expect(settings).toEqual({
      inputName: 'IMAGE',
      outputName: 'PIXELS',
      outputType: 'FP32',
      width: 200,
      height: 224,
      layout: 'NCHW',
      outputDims: [3, 224, 200],
      resize: { kind: 'squash' },
      scale: 1 / 255,
      mean: [0, 0, 0],
      std: [1, 1, 1],
      order: 'RGB',
    });
  });

  it('reads every parameter', () => {
    const { settings } = read(
      `max_batch_size: 0 ${IO} output [ { name: "P" data_type: TYPE_FP16 dims: [ 1, 224, 224, 3 ] } ]
       ${param('resize', 'center-crop')} ${param('resize_size', '256')} ${param('layout', 'nhwc')} ${param('scale', '1/127.5')}
       ${param('mean', '1, 1, 1')} ${param('std', '1 1 1')} ${param('color_order', 'bgr')}`,
    );
    expect(settings).toMatchObject({ outputType: 'FP16', layout: 'NHWC', width: 224, height: 224, resize: { kind: 'center-crop', resizeSize: 256 }, scale: 1 / 127.5, order: 'BGR', outputDims: [1, 224, 224, 3] });
  });

  it('reports every problem with its field', () => {
    const got = problems(
      `max_batch_size: 8 input [ { name: "IMAGE" data_type: TYPE_FP32 dims: [ 3 ] } ]
       output [ { name: "P" data_type: TYPE_INT64 dims: [ 3, -1, 224 ] } ]
       dynamic_batching { }
       ${param('resize', 'stretch')} ${param('scale', 'x')} ${param('mean', '1,2')} ${param('std', '1,0,1')} ${param('color_order', 'RGBA')} ${param('xrt', 'tensorrt')}`,
    );
    expect(got).toEqual([
      "error parameters.xrt: backend \"image_preprocess\" has no parameter 'xrt'",
      "error input[0].data_type: input 'IMAGE' is TYPE_FP32; the image backend reads encoded image files, one BYTES element each",
      "error input[0].dims: input 'IMAGE' has dims [3]; each batch element is one image",
      "error output[0].data_type: output 'P' is TYPE_INT64; the image backend writes TYPE_FP32, TYPE_FP16 or TYPE_UINT8",
      "error output[0].dims: output 'P' has dims [3, -1, 224]; the image backend writes [3, H, W] (NCHW) or [H, W, 3] (NHWC) with a fixed H and W",
      'error parameters.resize: resize \'stretch\' is not "squash" or "center-crop"',
      "error parameters.scale: scale 'x' is not a finite number or fraction",
      "error parameters.mean: mean '1,2' is not three numbers",
      "error parameters.std: std '1,0,1' is not three non-zero numbers",
      "error parameters.color_order: color_order 'RGBA' is not RGB or BGR",
      'warning dynamic_batching: dynamic_batching on the image backend batches requests together: one undecodable image then fails every request of its batch, and decoding gains nothing from batching',
    ]);
  });

  it('refuses a crop larger than the resize, normalization on UINT8, and resize_size without center-crop', () => {
    expect(problems(`${IO} output [ { name: "P" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ] ${param('resize', 'center-crop')} ${param('resize_size', '200')}`)).toEqual([
      "error parameters.resize_size: resize_size '200' must be a whole number of pixels from 224 (the larger output side) to 8192",
    ]);
    expect(problems(`${IO} output [ { name: "P" data_type: TYPE_UINT8 dims: [ 3, 8, 8 ] } ] ${param('mean', '1,1,1')}`)).toEqual([
      'error parameters.mean: a TYPE_UINT8 output holds the pixels as decoded; mean does not apply',
    ]);
    expect(problems(`${IO} output [ { name: "P" data_type: TYPE_FP32 dims: [ 3, 8, 8 ] } ] ${param('resize_size', '10')}`)).toEqual([
      'error parameters.resize_size: resize_size only applies to resize "center-crop"',
    ]);
    expect(problems(`${IO} output [ { name: "P" data_type: TYPE_FP32 dims: [ 3, 8, 8 ] } ] ${param('layout', 'NHWC')}`)).toEqual([
      "error output[0].dims: output 'P' has dims [3, 8, 8]; the image backend writes [3, H, W] (NCHW) or [H, W, 3] (NHWC) with a fixed H and W, or those with a leading 1",
    ]);
    expect(problems(`${IO} output [ { name: "P" data_type: TYPE_FP32 dims: [ 3, 9000, 9000 ] } ]`)[0]).toContain('more than 67108864');
  });
});
