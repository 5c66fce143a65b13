import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { BackendRegistry, type Backend, type ModelSource, type Session } from '../../../../src/core/backend.js';
import { silentLogger, type Logger } from '../../../../src/core/log.js';
import { ResponseCache } from '../../../../src/core/cache/response-cache.js';
import { CachedScheduler } from '../../../../src/core/scheduler/cached.js';
import { ModelManager, type ControlMode } from '../../../../src/core/repository/model-manager.js';
import { FakeSession } from '../../../fixtures/fake-models.js';
import { colourClassifierOnnx } from '../../../fixtures/models.js';
import { removeRepoDirs, repoDir } from '../../../fixtures/repo.js';

/** ModelManager on real model folders, with a backend whose sessions the test controls. */

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
  /** Models whose createSession has started, in order. */
  readonly entered: string[] = [];
  fail = false;
  gate: Promise<void> | undefined;
  async devices() {
    return ['cpu' as const];
  }
  async createSession(source: ModelSource): Promise<Session> {
    this.entered.push(source.model);
    await this.gate;
    if (this.fail) throw new Error('backend refuses this payload');
    const s = new FakeSession(source.graph.inputs, source.graph.outputs, () => []);
    this.sessions.push(s);
    return s;
  }
}

interface Extra {
  readonly log?: Logger;
  readonly responseCache?: ResponseCache;
  readonly loadThreads?: number;
  readonly allowLinksOutsideStore?: boolean;
}

function lifecycle(storeDir: string, controlMode: ControlMode, startupModels: string[] = [], extra: Extra = {}) {
  const backend = new ControlledBackend();
  const backends = new BackendRegistry();
  backends.register(backend, 1);
  const lc = new ModelManager({
    storeDir,
    backends,
    gpu: { available: false, reason: 'test' },
    strict: false,
    controlMode,
    startupModels,
    log: extra.log ?? silentLogger,
    threads: 1,
    loadThreads: extra.loadThreads,
    allowLinksOutsideStore: extra.allowLinksOutsideStore ?? false,
    responseCache: extra.responseCache,
  });
  return { lc, backend };
}

describe('ModelManager', () => {
  it('stop() while a load is still creating sessions leaves no session running', async () => {
    const store = await repoDir(modelFiles('a'));
    const { lc, backend } = lifecycle(store, 'explicit');
    let open!: () => void;
    backend.gate = new Promise<void>((r) => (open = r));
    const loading = lc.load('a');
    // Stop once the load is creating sessions (a fixed sleep races a slow first load).
    await vi.waitFor(() => expect(backend.entered).toHaveLength(1), { timeout: 10_000 });
    const stopping = lc.stop();
    open();
    await loading;
    await stopping;
    expect(backend.sessions.length).toBeGreaterThan(0);
    expect(backend.sessions.every((s) => s.disposed)).toBe(true);
    expect(lc.index()).toEqual([]);
  });

  it("explicit mode: the repository index lists every model folder, the ones not loaded as UNAVAILABLE 'unloaded' (Triton's index)", async () => {
    const store = await repoDir({ ...modelFiles('a'), ...modelFiles('b') });
    const { lc } = lifecycle(store, 'explicit', ['a']);
    await lc.start();
    expect(lc.storeIndex().map((e) => [e.name, e.state, e.reason])).toEqual([
      ['a', 'READY', undefined],
      ['b', 'UNAVAILABLE', 'unloaded'],
    ]);
    // index() (readiness, metrics, statistics) still holds only what the server loaded.
    expect(lc.index().map((e) => e.name)).toEqual(['a']);
    await lc.unload('a');
    await lc.load('b');
    expect(lc.storeIndex().map((e) => [e.name, e.state])).toEqual([
      ['a', 'UNAVAILABLE'],
      ['b', 'READY'],
    ]);
    await lc.stop();
  });

  it("none mode: the repository index is the loaded models' index", async () => {
    const store = await repoDir({ ...modelFiles('a') });
    const { lc } = lifecycle(store, 'none');
    await lc.start();
    expect(lc.storeIndex()).toEqual(lc.index());
    await lc.stop();
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

  it('serves a model folder that is a link to a folder inside the store', async () => {
    const store = await repoDir({ ...modelFiles('real'), '.kept/linked/config.pbtxt': config('linked'), '.kept/linked/1/model.onnx': colour.onnx });
    await symlink(path.join(store, '.kept', 'linked'), path.join(store, 'linked'));
    const { lc } = lifecycle(store, 'none');
    expect(await lc.start()).toEqual([]);
    expect(lc.readyVersions('linked')).toEqual(['1']);
    await lc.stop();
  });

  it('refuses a model folder linked from outside the store, unless links outside are allowed', async () => {
    const store = await repoDir(modelFiles('real'));
    const elsewhere = await repoDir(modelFiles('linked'));
    await symlink(path.join(elsewhere, 'linked'), path.join(store, 'linked'));
    const refused = lifecycle(store, 'none');
    const failures = await refused.lc.start();
    expect(failures).toEqual([{ model: 'linked', reason: expect.stringContaining('outside the model store') }]);
    expect(refused.lc.index()).toContainEqual(expect.objectContaining({ name: 'linked', state: 'UNAVAILABLE' }));
    expect(refused.lc.allReady()).toBe(true);
    await refused.lc.stop();

    const allowed = lifecycle(store, 'none', [], { allowLinksOutsideStore: true });
    expect(await allowed.lc.start()).toEqual([]);
    expect(allowed.lc.readyVersions('linked')).toEqual(['1']);
    await allowed.lc.stop();
  });

  it('refuses a TYPE_STRING model at load instead of serving it READY', async () => {
    const store = await repoDir({ ...modelFiles('a'), 'a/config.pbtxt': config('a').replace('data_type: TYPE_FP32 dims: [ 11 ]', 'data_type: TYPE_STRING dims: [ 11 ]') });
    const { lc, backend } = lifecycle(store, 'none');
    const failures = await lc.start();
    expect(failures).toEqual([{ model: 'a', reason: expect.stringContaining("output 'OUTPUT_0' is TYPE_STRING") }]);
    expect(backend.sessions).toHaveLength(0);
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

  it('loads different models side by side, at most --model-load-thread-count at once', async () => {
    const store = await repoDir({ ...modelFiles('a'), ...modelFiles('b'), ...modelFiles('c') });
    for (const [threads, expected] of [[4, 3], [2, 2]] as const) {
      const { lc, backend } = lifecycle(store, 'explicit', [], { loadThreads: threads });
      let open!: () => void;
      backend.gate = new Promise<void>((r) => (open = r));
      const loads = ['a', 'b', 'c'].map((n) => lc.load(n));
      await vi.waitFor(() => expect(backend.entered).toHaveLength(expected), { timeout: 10_000 });
      await new Promise((r) => setTimeout(r, 50));
      expect(backend.entered).toHaveLength(expected);
      open();
      await Promise.all(loads);
      expect(lc.index().map((e) => [e.name, e.state])).toEqual([['a', 'READY'], ['b', 'READY'], ['c', 'READY']]);
      await lc.stop();
    }
  });

  it("runs one model's loads and unloads in the order they were asked", async () => {
    const store = await repoDir(modelFiles('a'));
    const { lc, backend } = lifecycle(store, 'explicit');
    let open!: () => void;
    backend.gate = new Promise<void>((r) => (open = r));
    const first = lc.load('a');
    const unload = lc.unload('a');
    const second = lc.load('a');
    await vi.waitFor(() => expect(backend.entered).toEqual(['a']), { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 50));
    expect(backend.entered).toEqual(['a']);
    open();
    await Promise.all([first, unload, second]);
    expect(backend.entered).toEqual(['a', 'a']);
    expect(backend.sessions[0].disposed).toBe(true);
    expect(backend.sessions[1].disposed).toBe(false);
    expect(lc.readyVersions('a')).toEqual(['1']);
    await lc.stop();
  });

  it('stop() during start lets the running load finish, starts no waiting one, and leaves nothing running', async () => {
    const store = await repoDir({ ...modelFiles('a'), ...modelFiles('b') });
    const { lc, backend } = lifecycle(store, 'none', [], { loadThreads: 1 });
    let open!: () => void;
    backend.gate = new Promise<void>((r) => (open = r));
    const starting = lc.start();
    // One load slot: whichever model's load took it first runs; the other must never start.
    await vi.waitFor(() => expect(backend.entered).toHaveLength(1), { timeout: 10_000 });
    const first = [...backend.entered];
    const stopping = lc.stop();
    open();
    await expect(starting).rejects.toMatchObject({ code: 'OFS_SERVER_SHUTTING_DOWN' });
    await stopping;
    expect(backend.entered).toEqual(first);
    expect(backend.sessions.every((s) => s.disposed)).toBe(true);
    expect(lc.index()).toEqual([]);
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
