import { mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../../src/commands/serve.js';
import { CONFIG_FILENAME } from '../../src/core/config/constants.js';
import { buildColourClassifier } from '../../src/core/graph/builders/colour-classifier.js';
import { writeOneflowModel } from '../../src/core/graph/oneflow/writer.js';
import { fp32Tensor, fp32Values } from '../fixtures/ort.js';
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
    expect(((await gone.json()) as { error: string }).error).toBe("Request for unknown model: 'a' is not found");

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
    // Triton's strict readiness skips a model left UNAVAILABLE by a failed load
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    const index = (await (await post(url, '/v2/repository/index')).json()) as Array<{ name: string; state: string; reason?: string }>;
    const bad = index.find((m) => m.name === 'bad');
    expect(bad?.state).toBe('UNAVAILABLE');
    expect(bad?.reason).toBeTruthy();
  });

  it('explicit: a client loading a broken folder leaves the server ready (Triton skips UNAVAILABLE)', async () => {
    const store = await colourStore(['a']);
    await mkdir(join(store, 'bad', '1'), { recursive: true });
    await writeFile(join(store, 'bad', CONFIG_FILENAME), config('bad'));
    await writeFile(join(store, 'bad', '1', 'model.onnx'), 'not an onnx file');
    running = await serve({ cwd: store, modelStore: '.', httpPort: 0, address: '127.0.0.1', controlMode: 'explicit', loadModels: ['a'], quiet: true, installSignalHandlers: false });
    const url = running.urls.http as string;
    const load = await post(url, '/v2/repository/models/bad/load');
    expect(load.status).toBe(400);
    expect(((await load.json()) as { error: string }).error).toContain("failed to load 'bad'");
    expect((await fetch(`${url}/v2/models/bad/ready`)).status).toBe(400);
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    expect((await fetch(`${url}/v2/models/a/ready`)).status).toBe(200);
  });

  it('poll: a half-written folder is UNAVAILABLE without making the server unready, and loads once complete', async () => {
    const store = await colourStore(['a']);
    running = await serve({ cwd: store, modelStore: '.', httpPort: 0, address: '127.0.0.1', controlMode: 'poll', pollSecs: 3600, quiet: true, installSignalHandlers: false });
    const url = running.urls.http as string;
    const { onnx, labels } = colourClassifierOnnx();
    // the copy has got as far as the config and a truncated model file
    await mkdir(join(store, 'half', '1'), { recursive: true });
    await writeFile(join(store, 'half', CONFIG_FILENAME), config('half'));
    await writeFile(join(store, 'half', 'labels.txt'), labels.join('\n'));
    await writeFile(join(store, 'half', '1', 'model.onnx'), onnx.subarray(0, 40));
    await running.lifecycle.poll();
    expect(running.lifecycle.index().find((e) => e.name === 'half')?.state).toBe('UNAVAILABLE');
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);

    await writeFile(join(store, 'half', '1', 'model.onnx'), onnx);
    await running.lifecycle.poll();
    expect(running.lifecycle.readyVersions('half')).toEqual(['1']);
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
  });

  it('poll: a OneFlow variable rewritten in place deep in model/ is reloaded, not served stale', async () => {
    const { graph } = buildColourClassifier();
    const store = await repoDir({
      [`of/${CONFIG_FILENAME}`]: `name: "of"
backend: "oneflow"
max_batch_size: 4
input [ { name: "INPUT_0" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ]
output [ { name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 11 ] } ]
`,
    });
    const modelDir = join(store, 'of', '1', 'model');
    await writeOneflowModel(modelDir, graph);
    running = await serve({ cwd: store, modelStore: '.', controlMode: 'poll', pollSecs: 3600, quiet: true, installSignalHandlers: false });
    const infer = async () => {
      const pixels = new Float32Array(3 * 224 * 224).fill(0.5);
      const out = await running!.lifecycle.get('of').scheduler.enqueue({ inputs: [fp32Tensor('INPUT_0', [1, 3, 224, 224], pixels)], batchSize: 1, receivedNs: process.hrtime.bigint() });
      return Array.from(fp32Values(out.outputs[0]));
    };
    const before = await infer();

    const bias = (await readdir(modelDir)).find((n) => n.includes('bias'));
    expect(bias).toBeDefined();
    const out = join(modelDir, bias as string, 'out');
    // same size, new values (every class's bias + 100): only the contents and the times change
    const old = await readFile(out);
    const shifted = new Float32Array(old.buffer.slice(old.byteOffset, old.byteOffset + old.byteLength)).map((b) => b + 100);
    await writeFile(out, new Uint8Array(shifted.buffer));
    const later = new Date(Date.now() + 5000);
    await utimes(out, later, later);
    await running.lifecycle.poll();

    const after = await infer();
    expect(after).toHaveLength(11);
    after.forEach((v, i) => expect(v).toBeCloseTo(before[i] + 100, 3));
  });
});
