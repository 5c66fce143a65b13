import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convert, formatConvertReport } from '../../../src/commands/convert.js';
import { readOnnxModel } from '../../../src/core/graph/onnx-reader.js';
import { OrtBackend } from '../../../src/runtime/onnxruntime/backend.js';
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
});
