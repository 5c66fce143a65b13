import { cp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { init } from '../../../src/commands/init.js';
import { parsePbtxt } from '../../../src/core/config/pbtxt-parse.js';
import { readLabels } from '../../../src/core/repository/labels.js';
import { validateRepository } from '../../../src/core/repository/validate.js';
import { imagenetLabels } from '../../fixtures/images.js';
import { colourClassifierOnnx } from '../../fixtures/models.js';
import { oneflowFixture } from '../../fixtures/oneflow.js';
import { removeRepoDirs, repoDir, SEED_CONFIG } from '../../fixtures/repo.js';

afterAll(removeRepoDirs);

const AFFINE = oneflowFixture('affine_with_parameter');
const colour = colourClassifierOnnx();

const configAt = async (file: string) => parsePbtxt(await readFile(file, 'utf8'), file);

describe('init', () => {
  it('scaffolds a repository from an ONNX file that validates clean', async () => {
    const cwd = await repoDir({ 'classifier.onnx': colour.onnx, 'colours.txt': `${colour.labels.join('\n')}\n` });
    const result = await init({ cwd, model: 'classifier.onnx', labels: 'colours.txt' });
    expect(result.models).toEqual(['classifier']);
    expect(result.repository).toBe(path.join(cwd, 'model_repository'));
    expect(result.files).toEqual([
      'model_repository/classifier/1/model.onnx',
      'model_repository/classifier/config.pbtxt',
      'model_repository/classifier/labels.txt',
    ]);
    const dir = path.join(cwd, 'model_repository', 'classifier');
    expect(Buffer.from(await readFile(path.join(dir, '1', 'model.onnx'))).equals(Buffer.from(colour.onnx))).toBe(true);
    // The colour classifier is x [-1,3,224,224] → scores [-1,11] with the model's own IO names.
    expect(await configAt(path.join(dir, 'config.pbtxt'))).toMatchObject({
      name: 'classifier',
      backend: 'onnxruntime',
      max_batch_size: 8,
      input: [{ name: colour.graph.inputs[0].name, data_type: 'TYPE_FP32', dims: [3, 224, 224] }],
      output: [{ name: colour.graph.outputs[0].name, data_type: 'TYPE_FP32', dims: [11], label_filename: 'labels.txt' }],
      instance_group: [{ count: 1, kind: 'KIND_CPU' }],
    });
    expect(readLabels(await readFile(path.join(dir, 'labels.txt'), 'utf8'))).toEqual(colour.labels);
    expect(await validateRepository(result.repository)).toEqual({ models: [{ name: 'classifier', problems: [] }], problems: [] });
  });

  it('scaffolds from a OneFlow model folder, with generic labels for its classes', async () => {
    const cwd = await repoDir({});
    const result = await init({ cwd, model: AFFINE, repository: 'store', version: 3 });
    const dir = path.join(cwd, 'store', 'affine_with_parameter');
    expect(result.files).toEqual(['store/affine_with_parameter/3/model/', 'store/affine_with_parameter/config.pbtxt', 'store/affine_with_parameter/labels.txt']);
    for (const f of ['model.mlir', 'model.a/meta', 'model.a/out', 'model.b/meta', 'model.b/out']) {
      expect(await readFile(path.join(dir, '3', 'model', f))).toEqual(await readFile(path.join(AFFINE, f)));
    }
    // input [1,3] → output [1,4] (README); the OneFlow importer reads the traced leading dim as a dynamic
    // batch dim, so the config batches (default 8) and its dims leave that dim out.
    expect(await configAt(path.join(dir, 'config.pbtxt'))).toMatchObject({
      name: 'affine_with_parameter',
      backend: 'oneflow',
      max_batch_size: 8,
      input: [{ name: 'INPUT_0', data_type: 'TYPE_FP32', dims: [3] }],
      output: [{ name: 'OUTPUT_0', data_type: 'TYPE_FP32', dims: [4], label_filename: 'labels.txt' }],
    });
    expect(await readFile(path.join(dir, 'labels.txt'), 'utf8')).toBe('class_0\nclass_1\nclass_2\nclass_3\n');
    expect(await validateRepository(result.repository)).toEqual({ models: [{ name: 'affine_with_parameter', problems: [] }], problems: [] });
  });

  it('refuses to overwrite without force, writing nothing, and overwrites with it', async () => {
    const cwd = await repoDir({ 'm.onnx': colour.onnx });
    await init({ cwd, model: 'm.onnx' });
    const dir = path.join(cwd, 'model_repository', 'm');
    await writeFile(path.join(dir, 'config.pbtxt'), 'edited');
    await rm(path.join(dir, 'labels.txt'));

    await expect(init({ cwd, model: 'm.onnx' })).rejects.toMatchObject({ code: 'OFS_FILE_EXISTS', message: expect.stringContaining('model_repository/m/1/model.onnx') });
    expect(await readFile(path.join(dir, 'config.pbtxt'), 'utf8')).toBe('edited');
    await expect(stat(path.join(dir, 'labels.txt'))).rejects.toMatchObject({ code: 'ENOENT' });

    await init({ cwd, model: 'm.onnx', force: true });
    expect((await configAt(path.join(dir, 'config.pbtxt'))).name).toBe('m');
    expect(readLabels(await readFile(path.join(dir, 'labels.txt'), 'utf8'))).toHaveLength(11);
  });

  it('a OneFlow model already in its version folder gets a config, and --force does not delete it', async () => {
    const cwd = await repoDir({});
    await cp(AFFINE, path.join(cwd, 'model_repository', 'affine', '1', 'model'), { recursive: true });
    const result = await init({ cwd, model: 'model_repository/affine/1/model', force: true });
    expect(result.files).toEqual(['model_repository/affine/config.pbtxt', 'model_repository/affine/labels.txt']);
    expect(await readFile(path.join(cwd, 'model_repository', 'affine', '1', 'model', 'model.mlir'))).toEqual(await readFile(path.join(AFFINE, 'model.mlir')));
    expect(await validateRepository(result.repository)).toEqual({ models: [{ name: 'affine', problems: [] }], problems: [] });
  });

  it('--model-version N on an existing model adds the version and leaves config.pbtxt and labels.txt as they are', async () => {
    const cwd = await repoDir({ 'm.onnx': colour.onnx, 'colours.txt': `${colour.labels.join('\n')}\n` });
    await init({ cwd, model: 'm.onnx', labels: 'colours.txt' });
    const dir = path.join(cwd, 'model_repository', 'm');
    // The user's own edits, which a new version must not undo.
    const config = `${await readFile(path.join(dir, 'config.pbtxt'), 'utf8')}version_policy { all { } }\n`;
    await writeFile(path.join(dir, 'config.pbtxt'), config);
    await writeFile(path.join(dir, 'labels.txt'), 'mine\n');

    const result = await init({ cwd, model: 'm.onnx', version: 2 });
    expect(result.files).toEqual(['model_repository/m/2/model.onnx']);
    expect(result.kept).toEqual(['model_repository/m/config.pbtxt', 'model_repository/m/labels.txt']);
    expect(Buffer.from(await readFile(path.join(dir, '2', 'model.onnx'))).equals(Buffer.from(colour.onnx))).toBe(true);
    expect(await readFile(path.join(dir, 'config.pbtxt'), 'utf8')).toBe(config);
    expect(await readFile(path.join(dir, 'labels.txt'), 'utf8')).toBe('mine\n');

    // The version already there, flags that would go unused, and the wrong kind of model are refused.
    await expect(init({ cwd, model: 'm.onnx', version: 2 })).rejects.toMatchObject({ code: 'OFS_FILE_EXISTS' });
    await expect(init({ cwd, model: 'm.onnx', version: 3, labels: 'colours.txt' })).rejects.toMatchObject({
      code: 'OFS_BAD_ARGUMENT',
      message: expect.stringContaining('already has config.pbtxt'),
    });
    await expect(init({ cwd, model: AFFINE, name: 'm', version: 3 })).rejects.toMatchObject({
      code: 'OFS_BAD_ARGUMENT',
      message: expect.stringContaining('is a OneFlow folder'),
    });
    await expect(stat(path.join(dir, '3'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a repository path it cannot write to is OFS_WRITE_FAILED naming the path, not a crash', async () => {
    const cwd = await repoDir({ 'm.onnx': colour.onnx, 'taken': 'a file where the repository folder should go' });
    await expect(init({ cwd, model: 'm.onnx', repository: 'taken/repo' })).rejects.toMatchObject({
      code: 'OFS_WRITE_FAILED',
      message: expect.stringContaining(path.join(cwd, 'taken', 'repo', 'm')),
    });
  });

  it('needs a model or --example, and refuses a folder that is not a OneFlow model', async () => {
    const cwd = await repoDir({ 'empty/': '' });
    await expect(init({ cwd })).rejects.toMatchObject({ code: 'OFS_BAD_ARGUMENT' });
    await expect(init({ cwd, model: 'missing.onnx' })).rejects.toMatchObject({ code: 'OFS_FILE_NOT_FOUND' });
    await expect(init({ cwd, model: 'empty' })).rejects.toMatchObject({ code: 'OFS_MODEL_FORMAT' });
    await expect(init({ cwd, model: 'x.onnx', example: true })).rejects.toMatchObject({ code: 'OFS_BAD_ARGUMENT' });
    await expect(init({ cwd, example: true, name: 'mine' })).rejects.toMatchObject({ code: 'OFS_BAD_ARGUMENT' });
    await expect(init({ cwd, example: true, labels: 'l.txt' })).rejects.toMatchObject({ code: 'OFS_BAD_ARGUMENT' });
  });

  it('--example writes a demo repository that validates clean, in which the seed config validates too', async () => {
    const cwd = await repoDir({});
    const result = await init({ cwd, example: true });
    expect(result.models).toEqual(['resnet50_oneflow', 'color_classifier', 'resnet50_preprocess', 'resnet50_pipeline']);
    const resnet = path.join(result.repository, 'resnet50_oneflow');
    expect(await configAt(path.join(resnet, 'config.pbtxt'))).toEqual({
      name: 'resnet50_oneflow',
      backend: 'oneflow',
      max_batch_size: 8,
      input: [{ name: 'INPUT_0', data_type: 'TYPE_FP32', dims: [3, 224, 224] }],
      output: [{ name: 'OUTPUT_0', data_type: 'TYPE_FP32', dims: [1000], label_filename: 'labels.txt' }],
      instance_group: [{ count: 1, kind: 'KIND_CPU' }],
      // What makes `classify` without -m pick the seed's model over the colour classifier.
      parameters: { ofserve_classify_default: { string_value: 'true' } },
    });
    expect(readLabels(await readFile(path.join(resnet, 'labels.txt'), 'utf8'))).toEqual(readLabels(await readFile(imagenetLabels, 'utf8')));
    expect((await stat(path.join(resnet, '1', 'model', 'model.mlir'))).isFile()).toBe(true);
    expect((await stat(path.join(result.repository, 'color_classifier', '1', 'model.onnx'))).isFile()).toBe(true);

    const clean = {
      models: [
        { name: 'color_classifier', problems: [] },
        { name: 'resnet50_oneflow', problems: [] },
        { name: 'resnet50_pipeline', problems: [] },
        { name: 'resnet50_preprocess', problems: [] },
      ],
      problems: [],
    };
    expect(await validateRepository(result.repository)).toEqual(clean);
    // The seed's config, verbatim, over the same model (a dynamic batch dim serves max_batch_size 1 too).
    await writeFile(path.join(resnet, 'config.pbtxt'), SEED_CONFIG);
    expect(await validateRepository(result.repository)).toEqual(clean);
    // …but a config that disagrees with it does not validate: the check above reads the real model.
    await writeFile(path.join(resnet, 'config.pbtxt'), SEED_CONFIG.replace('dims: [ 1000 ]', 'dims: [ 10 ]'));
    const bad = await validateRepository(result.repository);
    expect(bad.models[1].problems.map((p) => p.field)).toContain('output[0].dims');
  }, 60_000);
});
