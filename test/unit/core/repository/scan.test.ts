import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanRepository } from '../../../../src/core/repository/scan.js';
import { removeRepoDirs, repoDir, SEED_CONFIG } from '../../../fixtures/repo.js';

afterAll(removeRepoDirs);

const ONNX_CONFIG = 'name: "c"\nbackend: "onnxruntime"\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 3 ] } ]\noutput [ { name: "y" data_type: TYPE_FP32 dims: [ 2 ] } ]\n';

describe('scanRepository', () => {
  it('finds models, their versions, payloads and labels', async () => {
    const store = await repoDir({
      'resnet50_oneflow/config.pbtxt': SEED_CONFIG,
      'resnet50_oneflow/labels.txt': 'a\nb\n',
      'resnet50_oneflow/1/model/model.mlir': '',
      'resnet50_oneflow/2/model/model.mlir': '',
      'c/config.pbtxt': ONNX_CONFIG,
      'c/3/model.onnx': 'x',
      '.ipynb_checkpoints/': '',
      'README.md': 'not a model',
    });
    const scan = await scanRepository(store);
    expect(scan.models.map((m) => m.name)).toEqual(['c', 'resnet50_oneflow']);
    const r = scan.models[1];
    expect(r.problems).toEqual([]);
    expect(r.config?.backend).toBe('oneflow');
    expect(r.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(r.selectedVersions).toEqual([2]);
    expect(r.versions[1].payload).toEqual({ kind: 'oneflow', path: path.join(store, 'resnet50_oneflow', '2', 'model'), file: 'resnet50_oneflow/2/model' });
    expect(r.labels).toEqual([
      expect.objectContaining({ output: 'OUTPUT_0', file: 'resnet50_oneflow/labels.txt', labels: ['a', 'b'] }),
    ]);
    expect(scan.models[0].versions[0].payload).toMatchObject({ kind: 'onnx', file: 'c/3/model.onnx' });
  });

  it('throws OFS_REPOSITORY_NOT_FOUND for a missing store', async () => {
    await expect(scanRepository('/nonexistent/ofserve-store')).rejects.toMatchObject({ code: 'OFS_REPOSITORY_NOT_FOUND' });
  });

  it('warns about version folders Triton skips, and skips warmup silently', async () => {
    const store = await repoDir({
      'c/config.pbtxt': ONNX_CONFIG,
      'c/1/model.onnx': 'x',
      'c/01/model.onnx': 'x',
      'c/v2/model.onnx': 'x',
      'c/warmup/': '',
    });
    const [m] = (await scanRepository(store)).models;
    expect(m.versions.map((v) => v.version)).toEqual([1]);
    expect(m.problems).toEqual([
      expect.objectContaining({ severity: 'warning', file: 'c/01', message: expect.stringContaining('leading zeros') }),
      expect.objectContaining({ severity: 'warning', file: 'c/v2', message: expect.stringContaining('integral number') }),
    ]);
  });

  it('only reports missing payloads of versions the policy serves', async () => {
    const store = await repoDir({ 'c/config.pbtxt': ONNX_CONFIG, 'c/1/': '', 'c/2/model.onnx': 'x' });
    const [m] = (await scanRepository(store)).models;
    expect(m.problems).toEqual([]);
    expect(m.versions[0].payload).toBeUndefined();
  });

  it('confines label_filename to the model folder', async () => {
    const config = SEED_CONFIG.replace('"labels.txt"', '"../secret.txt"');
    const store = await repoDir({ 'm/config.pbtxt': config.replace('resnet50_oneflow', 'm'), 'm/1/model/model.mlir': '', 'secret.txt': 'x' });
    const [m] = (await scanRepository(store)).models;
    expect(m.labels).toEqual([]);
    expect(m.problems).toEqual([
      expect.objectContaining({ severity: 'error', file: 'm/config.pbtxt', field: 'output[0].label_filename', message: '../secret.txt is outside model directory' }),
    ]);
  });

  it('confines default_model_filename to the version folder', async () => {
    const store = await repoDir({ 'c/config.pbtxt': `${ONNX_CONFIG}default_model_filename: "../../x.onnx"\n`, 'c/1/': '' });
    const [m] = (await scanRepository(store)).models;
    expect(m.problems).toEqual([
      expect.objectContaining({ file: 'c/config.pbtxt', field: 'default_model_filename', message: '../../x.onnx is outside model directory' }),
    ]);
  });
});
