import { describe, expect, it } from 'vitest';
import { choosePayload, payloadKindOfConfig, type EntryType } from '../../../../src/core/repository/payload.js';

const entries = (obj: Record<string, EntryType>) => new Map(Object.entries(obj));

describe('payloadKindOfConfig', () => {
  it('reads backend first, then platform', () => {
    expect(payloadKindOfConfig({ backend: 'oneflow' })).toBe('oneflow');
    expect(payloadKindOfConfig({ backend: 'onnxruntime' })).toBe('onnx');
    expect(payloadKindOfConfig({ platform: 'onnxruntime_onnx' })).toBe('onnx');
    expect(payloadKindOfConfig({ backend: 'pytorch' })).toBe('unknown');
    expect(payloadKindOfConfig({ platform: 'tensorrt_plan' })).toBe('unknown');
    expect(payloadKindOfConfig({})).toBeUndefined();
  });
});

describe('choosePayload', () => {
  it('finds the model folder of the oneflow backend', () => {
    expect(choosePayload({ backend: 'oneflow' }, entries({ model: 'dir' }), 'm/1')).toEqual({ found: true, kind: 'oneflow', relPath: 'model' });
  });

  it('finds model.onnx for onnxruntime, also as a folder holding model.onnx', () => {
    expect(choosePayload({ backend: 'onnxruntime' }, entries({ 'model.onnx': 'file' }), 'm/1')).toEqual({ found: true, kind: 'onnx', relPath: 'model.onnx' });
    expect(choosePayload({ platform: 'onnxruntime_onnx' }, entries({ 'model.onnx': 'dir' }), 'm/1')).toEqual({
      found: true,
      kind: 'onnx',
      relPath: 'model.onnx/model.onnx',
    });
  });

  it('uses default_model_filename', () => {
    expect(choosePayload({ backend: 'onnxruntime', default_model_filename: 'net.onnx' }, entries({ 'net.onnx': 'file' }), 'm/1')).toEqual({
      found: true,
      kind: 'onnx',
      relPath: 'net.onnx',
    });
  });

  it('decides the kind from the files when the config names no backend', () => {
    expect(choosePayload({}, entries({ model: 'dir' }), 'm/1')).toMatchObject({ found: true, kind: 'oneflow' });
    expect(choosePayload(undefined, entries({ 'model.onnx': 'file' }), 'm/1')).toMatchObject({ found: true, kind: 'onnx' });
    expect(choosePayload({}, entries({}), 'm/1')).toMatchObject({ found: false });
  });

  it('reports the missing model folder the way OneFlow-Serving does, hinting at a model.onnx beside it', () => {
    const r = choosePayload({ backend: 'oneflow' }, entries({ 'model.onnx': 'file' }), 'm/1');
    expect(r).toMatchObject({ found: false, message: 'cannot find the model folder m/1/model' });
    expect(r && !r.found && r.fix).toMatch(/backend: "onnxruntime"/);
  });

  it('refuses a file where the oneflow backend needs a folder', () => {
    const r = choosePayload({ backend: 'oneflow' }, entries({ model: 'file' }), 'm/1');
    expect(r && !r.found && r.message).toMatch(/is a file/);
  });

  it('looks for nothing under an unknown backend', () => {
    expect(choosePayload({ backend: 'tensorflow' }, entries({ model: 'dir' }), 'm/1')).toBeUndefined();
  });
});
