import { describe, expect, it } from 'vitest';
import { OfsError } from '../../../../src/errors.js';
import { parsePbtxt } from '../../../../src/core/config/pbtxt-parse.js';
import { printPbtxt } from '../../../../src/core/config/pbtxt-print.js';
import { scaffoldConfig } from '../../../../src/core/config/scaffold.js';
import type { Graph, ValueInfo } from '../../../../src/core/graph/ir.js';
import { checkAgainstGraph } from '../../../../src/core/repository/graph-rules.js';
import { checkConfig } from '../../../../src/core/repository/config-rules.js';

const graph = (inputs: ValueInfo[], outputs: ValueInfo[]): Graph => ({ name: 'g', inputs, outputs, nodes: [], initializers: [], opset: 17 });
const classifier = (batch: number, classes = 1000): Graph =>
  graph([{ name: 'image', dtype: 'FP32', shape: [batch, 3, 224, 224] }], [{ name: 'logits', dtype: 'FP32', shape: [batch, classes] }]);

describe('scaffoldConfig', () => {
  it("writes the seed's shape of config for a dynamic-batch classifier under the oneflow backend", () => {
    expect(scaffoldConfig(classifier(-1), { name: 'resnet50_oneflow', backend: 'oneflow', labelsFile: 'labels.txt', labelCount: 1000 })).toEqual({
      name: 'resnet50_oneflow',
      backend: 'oneflow',
      max_batch_size: 8,
      input: [{ name: 'INPUT_0', data_type: 'TYPE_FP32', dims: [3, 224, 224] }],
      output: [{ name: 'OUTPUT_0', data_type: 'TYPE_FP32', dims: [1000], label_filename: 'labels.txt' }],
      instance_group: [{ count: 1, kind: 'KIND_CPU' }],
    });
  });

  it("keeps the model's names for onnxruntime and honours the asked max batch size and GPU", () => {
    const c = scaffoldConfig(classifier(-1, 11), { name: 'c', backend: 'onnxruntime', maxBatchSize: 32, gpu: true });
    expect(c.input?.[0].name).toBe('image');
    expect(c.output?.[0]).toEqual({ name: 'logits', data_type: 'TYPE_FP32', dims: [11] });
    expect(c.max_batch_size).toBe(32);
    expect(c.instance_group).toEqual([{ count: 1, kind: 'KIND_GPU' }]);
  });

  it('gives a model exported with batch 1 max_batch_size 1, like the OneFlow-Serving example', () => {
    const c = scaffoldConfig(classifier(1), { name: 'r', backend: 'oneflow' });
    expect(c.max_batch_size).toBe(1);
    expect(c.input?.[0].dims).toEqual([3, 224, 224]);
    expect(() => scaffoldConfig(classifier(1), { name: 'r', backend: 'oneflow', maxBatchSize: 8 })).toThrow(OfsError);
    expect(scaffoldConfig(classifier(1), { name: 'r', backend: 'oneflow', maxBatchSize: 0 }).input?.[0].dims).toEqual([1, 3, 224, 224]);
  });

  it('keeps full shapes and max_batch_size 0 for a fixed batch above 1 or no batch dim', () => {
    const c = scaffoldConfig(classifier(4), { name: 'r', backend: 'onnxruntime' });
    expect(c.max_batch_size).toBe(0);
    expect(c.input?.[0].dims).toEqual([4, 3, 224, 224]);
    const affine = graph([{ name: 'x', dtype: 'FP32', shape: [3] }], [{ name: 'y', dtype: 'FP32', shape: [4] }]);
    expect(scaffoldConfig(affine, { name: 'a', backend: 'oneflow' })).toMatchObject({ max_batch_size: 0, input: [{ dims: [3] }] });
  });

  it('puts label_filename on the output whose last dim matches the labels', () => {
    const g = graph(
      [{ name: 'x', dtype: 'FP32', shape: [-1, 3] }],
      [
        { name: 'features', dtype: 'FP32', shape: [-1, 64] },
        { name: 'scores', dtype: 'FP32', shape: [-1, 5] },
      ],
    );
    const c = scaffoldConfig(g, { name: 'm', backend: 'onnxruntime', labelsFile: 'labels.txt', labelCount: 5 });
    expect(c.output?.map((o) => o.label_filename)).toEqual([undefined, 'labels.txt']);
  });

  it('maps data types through the dtype table', () => {
    const g = graph([{ name: 'x', dtype: 'UINT8', shape: [-1, 8] }], [{ name: 'y', dtype: 'INT64', shape: [-1, 1] }]);
    const c = scaffoldConfig(g, { name: 'm', backend: 'onnxruntime' });
    expect([c.input?.[0].data_type, c.output?.[0].data_type]).toEqual(['TYPE_UINT8', 'TYPE_INT64']);
  });

  it('writes configs that survive printing and parsing and pass the validation rules against their model', () => {
    for (const [g, backend] of [
      [classifier(-1), 'oneflow'],
      [classifier(1), 'onnxruntime'],
      [classifier(4), 'oneflow'],
    ] as const) {
      const c = scaffoldConfig(g, { name: 'm', backend, labelsFile: 'labels.txt', labelCount: 1000 });
      const back = parsePbtxt(printPbtxt(c), 'm/config.pbtxt');
      const ctx = { model: 'm', file: 'm/config.pbtxt', modelFile: 'm/1/model' };
      expect([...checkConfig(back, ctx), ...checkAgainstGraph(back, g, ctx)]).toEqual([]);
    }
  });
});
