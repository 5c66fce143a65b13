import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../../src/commands/serve.js';
import { CONFIG_FILENAME } from '../../src/core/config/constants.js';
import { colourClassifierOnnx } from '../fixtures/models.js';
import { repoDir } from '../fixtures/repo.js';

/** tritonserver's --model-control-mode: none (load all), explicit (load/unload API), poll (hot reload). */

const config = (name: string, extra = '') => `name: "${name}"
backend: "onnxruntime"
max_batch_size: 8
input [ { name: "INPUT_0" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ]
output [ { name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 11 ] label_filename: "labels.txt" } ]
${extra}`;

async function colourStore(names: string[]): Promise<string> {
  const { onnx, labels } = colourClassifierOnnx();
  const tree: Record<string, string | Uint8Array> = {};
  for (const n of names) {
    tree[`${n}/${CONFIG_FILENAME}`] = config(n);
    tree[`${n}/labels.txt`] = labels.join('\n');
    tree[`${n}/1/model.onnx`] = onnx;
  }
  return repoDir(tree);
}

let running: RunningServer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

const post = (url: string, path: string, body?: unknown) =>
  fetch(`${url}${path}`, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) });

describe('model control modes', () => {
  it('none: every model loads; load/unload answer 503 like Triton', async () => {
    const store = await colourStore(['a', 'b']);
    running = await serve({ cwd: store, modelStore: '.', httpPort: 0, address: '127.0.0.1', quiet: true, installSignalHandlers: false });
    const url = running.urls.http as string;
    const index = (await (await post(url, '/v2/repository/index')).json()) as Array<{ name: string; state: string }>;
    expect(index.map((m) => [m.name, m.state])).toEqual([['a', 'READY'], ['b', 'READY']]);
    const res = await post(url, '/v2/repository/models/a/unload');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toContain('not allowed');
  });

  it('explicit: only --load-model models start; the repository API loads and unloads', async () => {
    const store = await colourStore(['a', 'b']);
    running = await serve({ cwd: store, modelStore: '.', httpPort: 0, address: '127.0.0.1', controlMode: 'explicit', loadModels: ['a'], quiet: true, installSignalHandlers: false });
    const url = running.urls.http as string;
    expect((await fetch(`${url}/v2/models/a/ready`)).status).toBe(200);
    expect((await fetch(`${url}/v2/models/b/ready`)).status).not.toBe(200);

    expect((await post(url, '/v2/repository/models/b/load')).status).toBe(200);
    expect((await fetch(`${url}/v2/models/b/ready`)).status).toBe(200);
    expect((await post(url, '/v2/repository/models/a/unload')).status).toBe(200);
    const gone = await fetch(`${url}/v2/models/a`);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { error: string }).error).toBe("Request for unknown model: 'a' is not found; available models: b");

    const missing = await post(url, '/v2/repository/models/nope/load');
    expect(missing.status).toBeGreaterThanOrEqual(400);
    expect(((await missing.json()) as { error: string }).error).toContain('nope');
  });

  it('poll: a new version, a new model and a removed model are picked up without a restart', async () => {
    const store = await colourStore(['a', 'b']);
    running = await serve({ cwd: store, modelStore: '.', httpPort: 0, address: '127.0.0.1', controlMode: 'poll', pollSecs: 3600, quiet: true, installSignalHandlers: false });
    const { lifecycle } = running;
    const url = running.urls.http as string;
    const { onnx, labels } = colourClassifierOnnx();

    // a: version 2 appears and the policy (latest 1) moves to it; c: a new model; b: removed
    await mkdir(join(store, 'a', '2'));
    await writeFile(join(store, 'a', '2', 'model.onnx'), onnx);
    await mkdir(join(store, 'c', '1'), { recursive: true });
    await writeFile(join(store, 'c', CONFIG_FILENAME), config('c'));
    await writeFile(join(store, 'c', 'labels.txt'), labels.join('\n'));
    await writeFile(join(store, 'c', '1', 'model.onnx'), onnx);
    await rm(join(store, 'b'), { recursive: true });
    await lifecycle.poll();

    expect(lifecycle.readyVersions('a')).toEqual(['2']);
    expect(lifecycle.readyVersions('c')).toEqual(['1']);
    expect(() => lifecycle.readyVersions('b')).toThrow(/unknown model: 'b'/);
    const meta = (await (await fetch(`${url}/v2/models/a`)).json()) as { versions: string[] };
    expect(meta.versions).toEqual(['2']);
  });

  it('poll: a broken edit keeps the loaded version serving', async () => {
    const store = await colourStore(['a']);
    running = await serve({ cwd: store, modelStore: '.', httpPort: 0, address: '127.0.0.1', controlMode: 'poll', pollSecs: 3600, quiet: true, installSignalHandlers: false });
    await writeFile(join(store, 'a', CONFIG_FILENAME), 'name: "a"\nmax_batch_size: [oops');
    await running.lifecycle.poll();
    expect(running.lifecycle.readyVersions('a')).toEqual(['1']);
    expect((await fetch(`${running.urls.http}/v2/models/a/ready`)).status).toBe(200);
  });

  it('exits on a model that fails to load, naming it; --exit-on-error=false serves the rest', async () => {
    const store = await colourStore(['good']);
    await mkdir(join(store, 'bad', '1'), { recursive: true });
    await writeFile(join(store, 'bad', CONFIG_FILENAME), config('bad'));
    await writeFile(join(store, 'bad', '1', 'model.onnx'), 'not an onnx file');
    await expect(serve({ cwd: store, modelStore: '.', httpPort: 0, address: '127.0.0.1', quiet: true, installSignalHandlers: false })).rejects.toMatchObject({
      code: 'OFS_MODEL_LOAD_FAILED',
      message: expect.stringContaining("'bad'"),
    });
    running = await serve({ cwd: store, modelStore: '.', httpPort: 0, address: '127.0.0.1', exitOnError: false, quiet: true, installSignalHandlers: false });
    const url = running.urls.http as string;
    expect((await fetch(`${url}/v2/models/good/ready`)).status).toBe(200);
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(400); // strict readiness: not every model is ready
    const index = (await (await post(url, '/v2/repository/index')).json()) as Array<{ name: string; state: string; reason?: string }>;
    const bad = index.find((m) => m.name === 'bad');
    expect(bad?.state).toBe('UNAVAILABLE');
    expect(bad?.reason).toBeTruthy();
  });
});
