import { afterAll, describe, expect, it } from 'vitest';
import { BackendRegistry, type Backend, type ModelSource, type Session } from '../../../../src/core/backend.js';
import { normalizeConfig } from '../../../../src/core/config/normalize.js';
import { silentLogger } from '../../../../src/core/log.js';
import { BackendPlacement } from '../../../../src/core/repository/placement.js';
import { scanModel } from '../../../../src/core/repository/scan.js';
import { loadVersion } from '../../../../src/core/repository/version-loader.js';
import { f32, FakeSession } from '../../../fixtures/fake-models.js';
import { colourClassifierOnnx } from '../../../fixtures/models.js';
import { removeRepoDirs, repoDir } from '../../../fixtures/repo.js';

afterAll(removeRepoDirs);

const colour = colourClassifierOnnx();
const config = (extra = '') => `name: "m"
backend: "onnxruntime"
max_batch_size: 8
input [ { name: "INPUT_0" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ]
output [ { name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 11 ] label_filename: "labels.txt" } ]
instance_group [ { kind: KIND_CPU count: 2 } ]
${extra}`;

class Recording implements Backend {
  readonly name = 'recording';
  readonly sessions: FakeSession[] = [];
  readonly sources: ModelSource[] = [];
  constructor(private readonly failRun = false) {}
  async devices() {
    return ['cpu' as const];
  }
  async createSession(source: ModelSource): Promise<Session> {
    this.sources.push(source);
    const s = new FakeSession(source.graph.inputs, source.graph.outputs, () => {
      if (this.failRun) throw new Error('kernel failed');
      return [f32('OUTPUT_0', [1, 11], new Float32Array(11))];
    });
    this.sessions.push(s);
    return s;
  }
}

async function load(extra: string, backend: Recording) {
  const store = await repoDir({ 'm/config.pbtxt': config(extra), 'm/labels.txt': colour.labels.join('\n'), 'm/1/model.onnx': colour.onnx });
  const scanned = await scanModel(store, 'm');
  const backends = new BackendRegistry();
  backends.register(backend, 1);
  const placement = new BackendPlacement({ backends, gpu: { available: false, reason: 'test' }, strict: false, log: silentLogger });
  const normalized = normalizeConfig(scanned.config!, { modelName: 'm', gpuAvailable: false });
  return loadVersion({ scanned, version: scanned.versions[0], config: normalized, placement, threads: 4 });
}

describe('loadVersion', () => {
  it('makes one session per instance from the ONNX bytes, with the labels and config IO', async () => {
    const backend = new Recording();
    const { served, sessions } = await load('', backend);
    expect(sessions).toHaveLength(2);
    expect(backend.sources[0].onnx).toEqual(new Uint8Array(colour.onnx));
    expect(served.version).toBe('1');
    expect(served.labels.get('OUTPUT_0')).toEqual(colour.labels);
    expect(served.inputs).toEqual([{ name: 'INPUT_0', dtype: 'FP32', shape: [3, 224, 224] }]);
    await served.scheduler.stop();
  });

  it('disposes its sessions when the warmup fails', async () => {
    const backend = new Recording(true);
    const warmup = 'model_warmup [ { name: "w" batch_size: 1 inputs { key: "INPUT_0" value: { data_type: TYPE_FP32 dims: [ 3, 224, 224 ] zero_data: true } } } ]';
    await expect(load(warmup, backend)).rejects.toThrow(/kernel failed|warmup/);
    expect(backend.sessions).toHaveLength(2);
    expect(backend.sessions.every((s) => s.disposed)).toBe(true);
  });
});
