import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendRegistry, type Backend, type ModelSource, type Session } from '../../../../src/core/backend.js';
import { silentLogger, type Logger } from '../../../../src/core/log.js';
import { ResponseCache } from '../../../../src/core/cache/response-cache.js';
import { CachedScheduler } from '../../../../src/core/scheduler/cached.js';
import { ModelLifecycle, type ControlMode } from '../../../../src/core/repository/lifecycle.js';
import { FakeSession } from '../../../fixtures/fake-models.js';
import { colourClassifierOnnx } from '../../../fixtures/models.js';
import { removeRepoDirs, repoDir } from '../../../fixtures/repo.js';

/** ModelLifecycle on real model folders, with a backend whose sessions the test controls. */

afterAll(removeRepoDirs);

const colour = colourClassifierOnnx();
const config = (name: string) => `name: "${name}"
backend: "onnxruntime"
max_batch_size: 8
input [ { name: "INPUT_0" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ]
output [ { name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 11 ] } ]
`;
const modelFiles = (name: string): Record<string, string | Uint8Array> => ({
  [`${name}/config.pbtxt`]: config(name),
  [`${name}/1/model.onnx`]: colour.onnx,
});

/** Sessions succeed unless `fail` is set; each createSession waits for `gate` when one is set. */
class ControlledBackend implements Backend {
  readonly name = 'controlled';
  readonly sessions: FakeSession[] = [];
  fail = false;
  gate: Promise<void> | undefined;
  async devices() {
    return ['cpu' as const];
  }
  async createSession(source: ModelSource): Promise<Session> {
    await this.gate;
    if (this.fail) throw new Error('backend refuses this payload');
    const s = new FakeSession(source.graph.inputs, source.graph.outputs, () => []);
    this.sessions.push(s);
    return s;
  }
}

function lifecycle(storeDir: string, controlMode: ControlMode, startupModels: string[] = [], extra: { log?: Logger; responseCache?: ResponseCache } = {}) {
  const backend = new ControlledBackend();
  const backends = new BackendRegistry();
  backends.register(backend, 1);
  const lc = new ModelLifecycle({
    storeDir,
    backends,
    gpu: { available: false, reason: 'test' },
    strictGpu: false,
    controlMode,
    startupModels,
    log: extra.log ?? silentLogger,
    threads: 1,
    responseCache: extra.responseCache,
  });
  return { lc, backend };
}

describe('ModelLifecycle', () => {
  it('stop() while a load is still creating sessions leaves no session running', async () => {
    const store = await repoDir(modelFiles('a'));
    const { lc, backend } = lifecycle(store, 'explicit');
    let open!: () => void;
    backend.gate = new Promise<void>((r) => (open = r));
    const loading = lc.load('a');
    await new Promise((r) => setTimeout(r, 50));
    const stopping = lc.stop();
    open();
    await loading;
    await stopping;
    expect(backend.sessions.length).toBeGreaterThan(0);
    expect(backend.sessions.every((s) => s.disposed)).toBe(true);
    expect(lc.index()).toEqual([]);
  });

  it('an unload asked for during a load wins: the model does not come back', async () => {
    const store = await repoDir(modelFiles('a'));
    const { lc, backend } = lifecycle(store, 'explicit', ['a']);
    await lc.start();
    let open!: () => void;
    backend.gate = new Promise<void>((r) => (open = r));
    const reloading = lc.load('a');
    await new Promise((r) => setTimeout(r, 50));
    const unloading = lc.unload('a');
    open();
    await reloading;
    await unloading;
    expect(lc.index()).toEqual([]);
    expect(backend.sessions.every((s) => s.disposed)).toBe(true);
  });

  it('a load after stop() is refused as shutting down', async () => {
    const store = await repoDir(modelFiles('a'));
    const { lc } = lifecycle(store, 'explicit');
    await lc.stop();
    await expect(lc.load('a')).rejects.toMatchObject({ code: 'OFS_SERVER_SHUTTING_DOWN' });
  });

  it('a reload whose every version fails keeps the loaded version serving', async () => {
    const store = await repoDir(modelFiles('a'));
    const { lc, backend } = lifecycle(store, 'explicit', ['a']);
    expect(await lc.start()).toEqual([]);
    const serving = lc.get('a');
    backend.fail = true;
    await expect(lc.load('a')).rejects.toMatchObject({ code: 'OFS_MODEL_LOAD_FAILED' });
    expect(lc.get('a')).toBe(serving);
    expect(lc.readyVersions('a')).toEqual(['1']);
    expect(backend.sessions[0].disposed).toBe(false);
    await lc.stop();
  });

  it('serves a model folder that is a link to a folder, as validate lists it', async () => {
    const store = await repoDir(modelFiles('real'));
    const elsewhere = await repoDir(modelFiles('linked'));
    await symlink(path.join(elsewhere, 'linked'), path.join(store, 'linked'));
    const { lc } = lifecycle(store, 'none');
    await lc.start();
    expect(lc.readyVersions('linked')).toEqual(['1']);
    await lc.stop();
  });

  it('--load-model with a path instead of a model name is a failure, not a scan outside the store', async () => {
    const store = await repoDir(modelFiles('a'));
    const { lc, backend } = lifecycle(store, 'explicit', ['../a', 'a']);
    const failures = await lc.start();
    expect(failures).toEqual([{ model: '../a', reason: expect.stringContaining('no model folder') }]);
    expect(lc.index().map((e) => e.name)).toEqual(['a']);
    expect(backend.sessions.length).toBe(1);
    await lc.stop();
  });
});

describe('ModelLifecycle: what serve says about a config', () => {
  const capture = () => {
    const lines: string[] = [];
    const log: Logger = { info() {}, warn: (m) => lines.push(m), error: (m) => lines.push(`E ${m}`), verbose() {} };
    return { lines, log };
  };
  const extraConfig = `parameters { key: "xrt" value { string_value: "tensorrt" } }
instance_group [ { kind: KIND_CPU count: 1 rate_limiter { priority: 1 } } ]
response_cache { enable: true }
`;

  it('logs one line per field it does not act on, and one for response_cache without --cache-config', async () => {
    const store = await repoDir({ ...modelFiles('a'), 'a/config.pbtxt': config('a') + extraConfig });
    const { lines, log } = capture();
    const { lc } = lifecycle(store, 'none', [], { log });
    expect(await lc.start()).toEqual([]);
    expect(lines.filter((l) => l.includes('rate_limiter'))).toEqual([expect.stringMatching(/^a: warning: .*instance_group\[0\]\.rate_limiter: ofserve ignores this field: /)]);
    expect(lines.filter((l) => l.includes('parameters["xrt"]'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('response_cache'))).toEqual([expect.stringContaining('--cache-config local,size=BYTES')]);
    expect(lines).toHaveLength(3);
    expect(lc.get('a').cacheEnabled).toBe(false);
    await lc.stop();
  });

  it('puts the response cache in front of the scheduler when both the config and the server enable it', async () => {
    const store = await repoDir({ ...modelFiles('a'), 'a/config.pbtxt': `${config('a')}response_cache { enable: true }\n` });
    const { lines, log } = capture();
    const { lc } = lifecycle(store, 'none', [], { log, responseCache: new ResponseCache(1 << 20) });
    await lc.start();
    expect(lc.get('a').cacheEnabled).toBe(true);
    expect(lc.get('a').scheduler).toBeInstanceOf(CachedScheduler);
    expect(lines).toEqual([]);
    await lc.stop();
  });
});
