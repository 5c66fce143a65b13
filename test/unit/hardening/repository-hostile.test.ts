/**
 * Hostile model stores and configs: path tricks in names, label files and load requests stay inside
 * the store, unreadable files become problems naming them, and config numbers cannot make the server
 * allocate or spawn without bound. config.pbtxt fuzzing lives here too.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isOfsError } from '../../../src/errors.js';
import { BackendRegistry } from '../../../src/core/backend.js';
import { parsePbtxt } from '../../../src/core/config/pbtxt-parse.js';
import { printPbtxt } from '../../../src/core/config/pbtxt-print.js';
import { normalizeConfig } from '../../../src/core/config/normalize.js';
import { configToTritonJson } from '../../../src/core/config/config-json.js';
import { silentLogger } from '../../../src/core/log.js';
import { checkConfig } from '../../../src/core/repository/config-rules.js';
import { ModelManager } from '../../../src/core/repository/model-manager.js';
import { scanModel } from '../../../src/core/repository/scan.js';
import { validateRepository } from '../../../src/core/repository/validate.js';
import { warmupInputs } from '../../../src/core/repository/warmup.js';
import { expectOfsOrSuccess, memoryInUse, mutateText, prng } from '../../fixtures/hostile.js';
import { SEED_CONFIG, removeRepoDirs, repoDir } from '../../fixtures/repo.js';

afterAll(removeRepoDirs);

const ONNX_CONFIG = `backend: "onnxruntime"
max_batch_size: 4
input [ { name: "x" data_type: TYPE_FP32 dims: [ 3 ] } ]
output [ { name: "y" data_type: TYPE_FP32 dims: [ 3 ] label_filename: "labels.txt" } ]
`;

describe('config.pbtxt', () => {
  it('fuzz: 400 mutations parse, or fail with OFS_CONFIG_SYNTAX naming the file; parsed ones go through every consumer', async () => {
    const rnd = prng(31337);
    for (let i = 0; i < 400; i++) {
      const text = mutateText(i % 2 ? SEED_CONFIG : ONNX_CONFIG, rnd);
      const e = await expectOfsOrSuccess(() => {
        const config = parsePbtxt(text, 'm/config.pbtxt');
        checkConfig(config, { model: 'm', file: 'm/config.pbtxt' });
        const normal = normalizeConfig(config, { modelName: 'm', gpuAvailable: false });
        parsePbtxt(printPbtxt(normal), 'again');
        configToTritonJson(normal);
      }, `case ${i}`);
      if (e) expect(e.message).toMatch(/^m\/config\.pbtxt:\d+:\d+: /);
    }
  });

  it('refuses deep nesting, huge integers and huge number tokens quickly', async () => {
    const cases = [
      `${'optimization { '.repeat(50_000)}`,
      `input [ ${'{ '.repeat(100_000)} ]`,
      `instance_group [ ${'['.repeat(100_000)} ]`,
      'max_batch_size: 99999999999999999999999999999',
      'max_batch_size: -2147483649',
      'input [ { name: "x" dims: [ 9007199254740993 ] } ]',
      'input [ { name: "x" dims: [ 0xFFFFFFFFFFFFFFFFFFFFFFFF ] } ]',
      `max_batch_size: ${'9'.repeat(200_000)}`,
      `name: "${'\\\\'.repeat(100_000)}`,
      'name: "\\xZZ"',
    ];
    for (const text of cases) {
      const start = Date.now();
      const e = await expectOfsOrSuccess(() => parsePbtxt(text, 'm/config.pbtxt'), text.slice(0, 40));
      expect(e, text.slice(0, 40)).toBeDefined();
      expect(e?.message).toMatch(/^m\/config\.pbtxt:\d+:\d+: /);
      expect(Date.now() - start).toBeLessThan(3000);
    }
  });

  it('refuses an instance count that would spawn sessions without bound', () => {
    const config = parsePbtxt(`${ONNX_CONFIG}instance_group [ { kind: KIND_CPU count: 1000000 } ]`, 'm/config.pbtxt');
    const problems = checkConfig(config, { model: 'm', file: 'm/config.pbtxt' });
    expect(problems.some((p) => p.severity === 'error' && p.field === 'instance_group[0].count' && /1000000/.test(p.message))).toBe(true);
    const ok = parsePbtxt(`${ONNX_CONFIG}instance_group [ { kind: KIND_CPU count: 4 } ]`, 'm/config.pbtxt');
    expect(checkConfig(ok, { model: 'm', file: 'm/config.pbtxt' }).filter((p) => p.field?.startsWith('instance_group'))).toEqual([]);
  });

  it('refuses a warmup sample whose dims would allocate gigabytes, before allocating', async () => {
    const config = parsePbtxt(
      `${ONNX_CONFIG}model_warmup [ { name: "w" batch_size: 1 inputs { key: "x" value { data_type: TYPE_FP32 dims: [ 100000, 100000 ] zero_data: true } } } ]`,
      'm/config.pbtxt',
    );
    const before = memoryInUse();
    const e = await expectOfsOrSuccess(() => warmupInputs(config.model_warmup![0], config, '/nonexistent'), 'warmup');
    expect(e?.message).toMatch(/model_warmup 'w'.*x/);
    expect(memoryInUse() - before).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('model store', () => {
  it('keeps label files inside the model folder and reports unreadable ones as problems', async () => {
    const labels = ['../../../../etc/passwd', '/etc/passwd', '..', 'sub/../../x.txt', 'C:\\\\evil.txt', 'labels\\000.txt', 'dir'];
    for (const label of labels) {
      const config = ONNX_CONFIG.replace('"labels.txt"', `"${label}"`);
      const store = await repoDir({ 'm/config.pbtxt': config, 'm/1/model.onnx': 'x', 'm/dir/': '' });
      const scanned = await scanModel(store, 'm');
      const problems = scanned.problems.filter((p) => p.field === 'output[0].label_filename');
      expect(problems.length, label).toBe(1);
      expect(problems[0].message).not.toMatch(/root:/);
      expect(scanned.labels.every((l) => l.labels === undefined)).toBe(true);
    }
  });

  it('reports a config.pbtxt that is a folder as a problem of that model', async () => {
    const store = await repoDir({ 'm/config.pbtxt/': '', 'm/1/': '', 'ok/config.pbtxt': ONNX_CONFIG, 'ok/labels.txt': 'a\nb\nc\n', 'ok/1/': '' });
    const report = await validateRepository(store);
    const m = report.models.find((r) => r.name === 'm')!;
    expect(m.problems.some((p) => p.severity === 'error' && /config\.pbtxt/.test(p.file) && /folder|directory/.test(p.message))).toBe(true);
  });

  it('refuses load requests for names that are not a model folder of the store, without recording them', async () => {
    // The store's parent holds a model-looking folder: `..` must not reach it.
    const parent = await repoDir({ 'config.pbtxt': ONNX_CONFIG, '1/': '', 'store/m/config.pbtxt': ONNX_CONFIG, 'store/m/1/': '' });
    const lifecycle = new ModelManager({
      storeDir: join(parent, 'store'),
      backends: new BackendRegistry(),
      gpu: { available: false, reason: 'test' },
      strict: false,
      controlMode: 'explicit',
      log: silentLogger,
    });
    for (const name of ['..', '../store/m', 'm/..', 'm/../m', '.', '', '.hidden', 'a/b', 'a\\b', 'm\u0000', 'x'.repeat(5000), 'nope']) {
      let error: unknown;
      try {
        await lifecycle.load(name);
      } catch (e) {
        error = e;
      }
      expect(isOfsError(error), JSON.stringify(name.slice(0, 20))).toBe(true);
      expect((error as Error).message).toMatch(/failed to load/);
    }
    expect(lifecycle.index()).toEqual([]);
  });
});
