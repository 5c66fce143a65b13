import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../../src/core/config/model-config.js';
import type { Graph, ValueInfo } from '../../../../src/core/graph/ir.js';
import { checkAgainstGraph } from '../../../../src/core/repository/graph-rules.js';

const ctx = { model: 'm', file: 'm/config.pbtxt', modelFile: 'm/1/model' };

const graph = (inputs: ValueInfo[], outputs: ValueInfo[]): Graph => ({ name: 'g', inputs, outputs, nodes: [], initializers: [], opset: 17 });
const resnet = (batch: number): Graph =>
  graph([{ name: 'x', dtype: 'FP32', shape: [batch, 3, 224, 224] }], [{ name: 'y', dtype: 'FP32', shape: [batch, 1000] }]);

const seed = (over: Partial<ModelConfig> = {}): ModelConfig => ({
  name: 'm',
  backend: 'oneflow',
  max_batch_size: 1,
  input: [{ name: 'INPUT_0', data_type: 'TYPE_FP32', dims: [3, 224, 224] }],
  output: [{ name: 'OUTPUT_0', data_type: 'TYPE_FP32', dims: [1000], label_filename: 'labels.txt' }],
  ...over,
});

describe('checkAgainstGraph', () => {
  it('accepts the seed config for a model with a batch dim fixed at 1 or dynamic', () => {
    expect(checkAgainstGraph(seed(), resnet(1), ctx)).toEqual([]);
    expect(checkAgainstGraph(seed(), resnet(-1), ctx)).toEqual([]);
    expect(checkAgainstGraph(seed({ max_batch_size: 8 }), resnet(-1), ctx)).toEqual([]);
  });

  it('binds oneflow tensors by position and onnxruntime tensors by name', () => {
    const byName = seed({
      backend: 'onnxruntime',
      input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3, 224, 224] }],
      output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [1000] }],
    });
    expect(checkAgainstGraph(byName, resnet(-1), ctx)).toEqual([]);
    expect(checkAgainstGraph(seed({ backend: 'onnxruntime' }), resnet(-1), ctx).map((p) => p.field)).toEqual([
      'input[0].name',
      'input',
      'output[0].name',
    ]);
  });

  it('reports dims that disagree with the model, leaving the batch dim out', () => {
    const c = seed({ input: [{ name: 'INPUT_0', data_type: 'TYPE_FP32', dims: [3, 256, 256] }] });
    expect(checkAgainstGraph(c, resnet(-1), ctx)).toEqual([
      {
        severity: 'error',
        file: 'm/config.pbtxt',
        field: 'input[0].dims',
        message:
          "input 'INPUT_0' has dims [3, 256, 256], but 'x' (INPUT_0) in m/1/model has shape [-1, 3, 224, 224] (with max_batch_size > 0, dims leave out the leading batch dimension)",
        fix: 'set dims: [3, 224, 224]',
      },
    ]);
  });

  it('reports dims that wrongly include the batch dim', () => {
    const c = seed({ max_batch_size: 8, output: [{ name: 'OUTPUT_0', data_type: 'TYPE_FP32', dims: [-1, 1000] }] });
    const problems = checkAgainstGraph(c, resnet(-1), ctx);
    expect(problems.map((p) => p.field)).toContain('max_batch_size');
  });

  it('accepts config sizes where the model dim is variable, and refuses -1 where the model is fixed', () => {
    const g = graph([{ name: 'x', dtype: 'FP32', shape: [-1, 3, -1, -1] }], [{ name: 'y', dtype: 'FP32', shape: [-1, 10] }]);
    const c = seed({ input: [{ name: 'INPUT_0', data_type: 'TYPE_FP32', dims: [3, 224, 224] }], output: [{ name: 'OUTPUT_0', data_type: 'TYPE_FP32', dims: [-1] }] });
    expect(checkAgainstGraph(c, g, ctx)).toEqual([expect.objectContaining({ field: 'output[0].dims', fix: 'set dims: [10]' })]);
  });

  it('reports a data_type that disagrees with the model', () => {
    const c = seed({ input: [{ name: 'INPUT_0', data_type: 'TYPE_FP16', dims: [3, 224, 224] }] });
    expect(checkAgainstGraph(c, resnet(1), ctx)).toEqual([
      expect.objectContaining({
        field: 'input[0].data_type',
        message: "input 'INPUT_0' has data_type TYPE_FP16, but 'x' (INPUT_0) in m/1/model is TYPE_FP32",
        fix: 'set data_type: TYPE_FP32',
      }),
    ]);
  });

  it('reports max_batch_size > 1 for a model whose batch dim is fixed at 1', () => {
    expect(checkAgainstGraph(seed({ max_batch_size: 8 }), resnet(1), ctx)).toEqual([
      {
        severity: 'error',
        file: 'm/config.pbtxt',
        field: 'max_batch_size',
        message: "max_batch_size is 8, but the batch dimension of 'x' in m/1/model is fixed at 1 (shape [1, 3, 224, 224])",
        fix: expect.stringContaining('set max_batch_size: 1'),
      },
    ]);
  });

  it('reports max_batch_size > 0 for a model without a batch dim', () => {
    const g = graph([{ name: 'x', dtype: 'FP32', shape: [3, 224, 224] }], [{ name: 'y', dtype: 'FP32', shape: [1000] }]);
    const problems = checkAgainstGraph(seed(), g, ctx);
    expect(problems).toEqual([
      expect.objectContaining({ field: 'max_batch_size', message: expect.stringContaining('the model has no batch dimension'), fix: expect.stringContaining('max_batch_size: 0') }),
    ]);
  });

  it('reports a fixed batch of more than 1 under batching', () => {
    const problems = checkAgainstGraph(seed(), resnet(4), ctx);
    expect(problems).toEqual([expect.objectContaining({ field: 'max_batch_size', message: expect.stringContaining('fixed at 4') })]);
  });

  it('compares full shapes when max_batch_size is 0, and suggests batching for a dynamic leading dim', () => {
    const c = seed({
      max_batch_size: 0,
      input: [{ name: 'INPUT_0', data_type: 'TYPE_FP32', dims: [-1, 3, 224, 224] }],
      output: [{ name: 'OUTPUT_0', data_type: 'TYPE_FP32', dims: [-1, 1000] }],
    });
    expect(checkAgainstGraph(c, resnet(-1), ctx)).toEqual([expect.objectContaining({ severity: 'warning', field: 'max_batch_size' })]);
    const fixed = seed({
      max_batch_size: 0,
      input: [{ name: 'INPUT_0', data_type: 'TYPE_FP32', dims: [1, 3, 224, 224] }],
      output: [{ name: 'OUTPUT_0', data_type: 'TYPE_FP32', dims: [1, 1000] }],
    });
    expect(checkAgainstGraph(fixed, resnet(1), ctx)).toEqual([]);
  });

  it('reports oneflow tensors beyond the model, and model inputs missing from the config', () => {
    const two = seed({
      input: [
        { name: 'INPUT_0', data_type: 'TYPE_FP32', dims: [3, 224, 224] },
        { name: 'INPUT_1', data_type: 'TYPE_FP32', dims: [3] },
      ],
    });
    expect(checkAgainstGraph(two, resnet(1), ctx)).toEqual([
      expect.objectContaining({ field: 'input[1].name', message: 'INPUT_1 names input 1 of the model, but m/1/model has 1 input' }),
    ]);
    const g = graph(
      [{ name: 'a', dtype: 'FP32', shape: [1, 3, 224, 224] }, { name: 'b', dtype: 'INT64', shape: [1, 2] }],
      [{ name: 'y', dtype: 'FP32', shape: [1, 1000] }],
    );
    expect(checkAgainstGraph(seed(), g, ctx)).toEqual([
      expect.objectContaining({ field: 'input', message: "model input 1 ('b', INPUT_1) of m/1/model is missing from the config", fix: expect.stringContaining('TYPE_INT64') }),
    ]);
  });
});
