import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convert, formatConvertReport } from '../../../src/commands/convert.js';
import { readOnnxModel } from '../../../src/core/graph/onnx-reader.js';
import { OrtBackend } from '../../../src/runtime/onnxruntime/backend.js';
import sharp from 'sharp';
import { colourClassifierOnnx } from '../../fixtures/models.js';
import { makeTemp, oneflowFixture, removeTemp } from '../../fixtures/oneflow.js';
import { fp32Tensor, fp32Values } from '../../fixtures/ort.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTemp('ofserve-convert-');
});
afterAll(async () => removeTemp(dir));

describe('ofserve convert', () => {
  it('writes a standard ONNX file that computes the OneFlow affine model (x·1 + 1)', async () => {
    const result = await convert({ cwd: dir, modelDir: oneflowFixture('affine_with_parameter'), to: 'onnx', output: 'affine.onnx' });
    expect(result.output).toBe(join(dir, 'affine.onnx'));
    expect(formatConvertReport(result)).toContain('affine.onnx');

    const bytes = new Uint8Array(await readFile(result.output));
    const graph = readOnnxModel(bytes, 'affine.onnx');
    expect(graph.inputs.map((i) => [i.dtype, i.shape])).toEqual([['FP32', [-1, 3]]]);
    expect(graph.outputs.map((o) => [o.dtype, o.shape])).toEqual([['FP32', [-1, 4]]]);

    // an independent consumer: onnxruntime loading the file we wrote; a = ones(3,4), b = ones(4)
    const session = await new OrtBackend().createSession({ model: 'affine', version: '1', graph, onnx: bytes }, { device: 'cpu', threads: 1 });
    try {
      const [out] = await session.run([fp32Tensor(graph.inputs[0].name, [2, 3], Float32Array.from([1, 2, 3, -1, 0, 4]))]);
      expect(out.shape).toEqual([2, 4]);
      expect([...fp32Values(out)]).toEqual([7, 7, 7, 7, 4, 4, 4, 4]);
    } finally {
      await session.dispose();
    }
  });

  it('refuses to overwrite without --force, and overwrites with it', async () => {
    await writeFile(join(dir, 'exists.onnx'), 'keep me');
    await expect(convert({ cwd: dir, modelDir: oneflowFixture('affine_with_parameter'), to: 'onnx', output: 'exists.onnx' })).rejects.toMatchObject({ code: 'OFS_FILE_EXISTS' });
    expect(await readFile(join(dir, 'exists.onnx'), 'utf8')).toBe('keep me');
    await convert({ cwd: dir, modelDir: oneflowFixture('affine_with_parameter'), to: 'onnx', output: 'exists.onnx', force: true });
    expect((await readFile(join(dir, 'exists.onnx'))).length).toBeGreaterThan(100);
  });

  it('names a missing model folder', async () => {
    await expect(convert({ cwd: dir, modelDir: 'no/such/model', to: 'onnx', output: 'x.onnx' })).rejects.toMatchObject({
      code: 'OFS_FILE_NOT_FOUND',
      message: expect.stringContaining('no/such/model'),
    });
  });

  it('reports an unsupported op with its op_name and line instead of writing a file', async () => {
    const model = join(dir, 'bad-model');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(model, { recursive: true });
    await writeFile(
      join(model, 'model.mlir'),
      `module {
  oneflow.job @G(%arg0: tensor<1x4xf32>) -> tensor<1x4xf32> {
    %x = "oneflow.input"(%arg0) {data_type = 2 : i32, op_name = "_G_input.0.0_2", shape = [1 : si64, 4 : si64]} : (tensor<1x4xf32>) -> tensor<1x4xf32>
    %y = "oneflow.gelu"(%x) {op_name = "model.act-gelu-0"} : (tensor<1x4xf32>) -> tensor<1x4xf32>
    %z = "oneflow.output"(%y) {data_type = 2 : i32, op_name = "_G_output.0.0_2", shape = [1 : si64, 4 : si64]} : (tensor<1x4xf32>) -> tensor<1x4xf32>
    oneflow.return %z : tensor<1x4xf32>
  }
}
`,
    );
    const err = await convert({ cwd: dir, modelDir: model, to: 'onnx', output: 'gelu.onnx' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OFS_UNSUPPORTED_OP' });
    expect((err as Error).message).toContain('gelu');
    expect((err as Error).message).toContain('model.act-gelu-0');
    expect((err as Error).message).toContain(':4:');
  });

  describe('--quantize int8', () => {
    const colours: Array<[number, number, number]> = [[250, 10, 10], [10, 240, 20], [20, 20, 230], [240, 240, 20], [128, 128, 128], [30, 200, 200]];
    async function calibrationDir(): Promise<string> {
      const cal = join(dir, 'calibration');
      const { mkdir } = await import('node:fs/promises');
      await mkdir(cal, { recursive: true });
      for (const [i, [r, g, b]] of colours.entries()) {
        await sharp({ create: { width: 32, height: 32, channels: 3, background: { r, g, b } } }).png().toFile(join(cal, `c${i}.png`));
      }
      await writeFile(join(cal, 'notes.txt'), 'not an image: skipped');
      return cal;
    }

    it('quantizes an ONNX file into QDQ that onnxruntime runs and that classifies like FP32', async () => {
      const colour = colourClassifierOnnx();
      const cal = await calibrationDir();
      const result = await convert({ cwd: dir, modelDir: colour.path, to: 'onnx', output: 'colour-int8.onnx', quantize: 'int8', calibration: cal, calibrationMethod: 'percentile' });
      expect(result.quantized).toEqual({ method: 'percentile', images: colours.length, activations: 1, weights: 1 });
      expect(formatConvertReport(result)).toContain('int8: 1 weight tensors per-channel, 1 activations calibrated (percentile) on 6 images');
      const bytes = new Uint8Array(await readFile(result.output));
      const graph = readOnnxModel(bytes, result.output);
      expect(graph.nodes.map((n) => n.op)).toEqual(expect.arrayContaining(['QuantizeLinear', 'DequantizeLinear', 'Gemm']));
      expect(graph.initializers.find((i) => i.name.startsWith('score.weight'))?.dtype).toBe('INT8');

      const backend = new OrtBackend();
      const [fp32, int8] = await Promise.all([
        backend.createSession({ model: 'c', version: '1', graph: colour.graph, onnx: colour.onnx }, { device: 'cpu', threads: 1 }),
        backend.createSession({ model: 'q', version: '1', graph, onnx: bytes }, { device: 'cpu', threads: 1 }),
      ]);
      try {
        for (const [r, g, b] of colours) {
          const plane = 224 * 224;
          const x = new Float32Array(3 * plane);
          x.fill(r / 255, 0, plane).fill(g / 255, plane, 2 * plane).fill(b / 255, 2 * plane);
          const [a] = await fp32.run([fp32Tensor('INPUT_0', [1, 3, 224, 224], x)]);
          const [q] = await int8.run([fp32Tensor('INPUT_0', [1, 3, 224, 224], x)]);
          const [va, vq] = [fp32Values(a!), fp32Values(q!)];
          expect(vq.indexOf(Math.max(...vq))).toBe(va.indexOf(Math.max(...va)));
        }
      } finally {
        await Promise.all([fp32.dispose(), int8.dispose()]);
      }
    });

    it('says which flag is missing or misplaced', async () => {
      const model = colourClassifierOnnx().path;
      await expect(convert({ cwd: dir, modelDir: model, to: 'onnx', output: 'q.onnx', quantize: 'int8' })).rejects.toMatchObject({
        code: 'OFS_BAD_ARGUMENT',
        message: expect.stringContaining('--quantize int8 needs --calibration DIR'),
      });
      await expect(convert({ cwd: dir, modelDir: model, to: 'onnx', output: 'q.onnx', calibration: dir })).rejects.toMatchObject({
        code: 'OFS_BAD_ARGUMENT',
        message: expect.stringContaining('only with --quantize int8'),
      });
      await expect(convert({ cwd: dir, modelDir: model, to: 'onnx', output: 'q.onnx', quantize: 'int8', calibration: 'no/such/dir' })).rejects.toMatchObject({
        code: 'OFS_FILE_NOT_FOUND',
        message: expect.stringContaining('no/such/dir'),
      });
      const empty = join(dir, 'empty-cal');
      const { mkdir } = await import('node:fs/promises');
      await mkdir(empty, { recursive: true });
      await writeFile(join(empty, 'readme.txt'), 'x');
      await expect(convert({ cwd: dir, modelDir: model, to: 'onnx', output: 'q.onnx', quantize: 'int8', calibration: empty })).rejects.toMatchObject({
        code: 'OFS_BAD_ARGUMENT',
        message: expect.stringContaining('holds no images'),
      });
      const wrongMethod = { cwd: dir, modelDir: model, to: 'onnx' as const, output: 'q.onnx', quantize: 'int8' as const, calibration: empty, calibrationMethod: 'mse' as never };
      await expect(convert(wrongMethod)).rejects.toMatchObject({ message: expect.stringContaining('minmax, percentile, entropy') });
    });

    it('refuses a model without an image input, before writing anything', async () => {
      const cal = await calibrationDir();
      await expect(
        convert({ cwd: dir, modelDir: oneflowFixture('affine_with_parameter'), to: 'onnx', output: 'affine-int8.onnx', quantize: 'int8', calibration: cal }),
      ).rejects.toMatchObject({ code: 'OFS_BAD_ARGUMENT', message: expect.stringContaining('one FP32 image input of rank 4') });
      const { stat } = await import('node:fs/promises');
      await expect(stat(join(dir, 'affine-int8.onnx'))).rejects.toThrow();
    });
  });
});
