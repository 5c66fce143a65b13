import { afterAll, describe, expect, it } from 'vitest';
import { BackendRegistry, type Backend, type ModelSource, type Session } from '../../../../src/core/backend.js';
import { silentLogger } from '../../../../src/core/log.js';
import { ModelManager, type ControlMode } from '../../../../src/core/repository/model-manager.js';
import { FakeSession } from '../../../fixtures/fake-models.js';
import { colourClassifierOnnx } from '../../../fixtures/models.js';
import { removeRepoDirs, repoDir } from '../../../fixtures/repo.js';

/** Several model repositories (tritonserver's repeated --model-repository) behind one lifecycle. */

afterAll(removeRepoDirs);

const colour = colourClassifierOnnx();
const modelFiles = (name: string): Record<string, string | Uint8Array> => ({
  [`${name}/config.pbtxt`]: `name: "${name}"
backend: "onnxruntime"
max_batch_size: 8
input [ { name: "INPUT_0" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ]
output [ { name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 11 ] } ]
`,
  [`${name}/1/model.onnx`]: colour.onnx,
});

class FakeBackend implements Backend {
  readonly name = 'fake';
  async devices() {
    return ['cpu' as const];
  }
  async createSession(source: ModelSource): Promise<Session> {
    return new FakeSession(source.graph.inputs, source.graph.outputs, () => []);
  }
}

function lifecycle(storeDirs: string[], controlMode: ControlMode = 'none', startupModels: string[] = []) {
  const backends = new BackendRegistry();
  backends.register(new FakeBackend(), 1);
  return new ModelManager({
    storeDir: storeDirs[0] as string,
    storeDirs,
    backends,
    gpu: { available: false, reason: 'test' },
    strict: false,
    controlMode,
    startupModels,
    log: silentLogger,
    threads: 1,
  });
}

describe('ModelManager over several repositories', () => {
  it('serves the models of every repository', async () => {
    const lc = lifecycle([await repoDir(modelFiles('a')), await repoDir(modelFiles('b'))]);
    expect(await lc.start()).toEqual([]);
    expect(lc.index().map((e) => [e.name, e.state])).toEqual([
      ['a', 'READY'],
      ['b', 'READY'],
    ]);
    expect(lc.get('b').name).toBe('b');
    await lc.stop();
  });

  it('a model name in two repositories is not served, and the start reports it (as Triton)', async () => {
    const one = await repoDir({ ...modelFiles('a'), ...modelFiles('dup') });
    const two = await repoDir(modelFiles('dup'));
    const lc = lifecycle([one, two]);
    const failures = await lc.start();
    expect(failures).toHaveLength(1);
    expect(failures[0]?.model).toBe('dup');
    expect(failures[0]?.reason).toMatch(/^not unique across all model repositories/);
    expect(failures[0]?.reason).toContain(two);
    expect(lc.get('a').name).toBe('a');
    expect(() => lc.get('dup')).toThrow();
    expect(lc.index().find((e) => e.name === 'dup')?.state).toBe('UNAVAILABLE');
    await lc.stop();
  });

  it('explicit load finds a model in the second repository', async () => {
    const lc = lifecycle([await repoDir(modelFiles('a')), await repoDir(modelFiles('b'))], 'explicit');
    await lc.start();
    await lc.load('b');
    expect(lc.readyVersions('b')).toEqual(['1']);
    await expect(lc.load('nope')).rejects.toMatchObject({ code: 'OFS_MODEL_LOAD_FAILED' });
    await lc.stop();
  });
});
