import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { init } from '../../src/commands/init.js';
import { serve, type RunningServer } from '../../src/commands/serve.js';
import { InferenceServerClient } from '../../src/client/http-client.js';
import { inferInput } from '../../src/client/infer-input.js';
import { elementCount } from '../../src/core/tensor/dtype.js';
import { colourClassifierOnnx } from '../fixtures/models.js';
import { makeTemp, oneflowFixture, removeTemp, RESNET50_MLIR, writeSeededResnetWeights, type OneflowFixture } from '../fixtures/oneflow.js';

/**
 * Any config `init` writes must serve: every OneFlow fixture and an ONNX model go through
 * `init` → `serve` (in-process) → an infer request shaped from the config `init` wrote.
 */

const FIXTURES: readonly OneflowFixture[] = ['affine_with_parameter', 'affine_with_parameter_2021', 'affine_no_parameter'];

let dir: string;
let server: RunningServer;
let client: InferenceServerClient;
const models: string[] = [];

beforeAll(async () => {
  dir = await makeTemp('ofserve-init-serve-');
  for (const name of FIXTURES) {
    await init({ cwd: dir, repository: 'repo', model: oneflowFixture(name) });
    models.push(name);
  }
  // The ResNet-50 fixture is a graph without weights: give it seeded ones, as flow.save would write them.
  await writeSeededResnetWeights(RESNET50_MLIR, join(dir, 'resnet50_graph', 'model'), 3);
  await init({ cwd: dir, repository: 'repo', model: join(dir, 'resnet50_graph', 'model') });
  models.push('resnet50_graph');
  await init({ cwd: dir, repository: 'repo', model: colourClassifierOnnx().path, name: 'colours' });
  models.push('colours');
  server = await serve({ cwd: dir, modelStore: 'repo', httpPort: 0, address: '127.0.0.1', quiet: true, installSignalHandlers: false });
  client = new InferenceServerClient({ url: server.urls.http as string });
}, 240_000);

afterAll(async () => {
  await server?.close();
  await removeTemp(dir);
});

describe('init → serve → infer', () => {
  it('writes max_batch_size: 0 with full dims for a OneFlow save with no shared batch dimension', async () => {
    const text = await readFile(join(dir, 'repo', 'affine_no_parameter', 'config.pbtxt'), 'utf8');
    expect(text).toMatch(/^max_batch_size: 0$/m);
    const config = await client.getModelConfig('affine_no_parameter');
    expect(config.max_batch_size).toBe(0);
    expect(config.input?.map((i) => i.dims)).toEqual([[1, 3], [3, 2], [2]]);
    expect(config.output?.map((o) => o.dims)).toEqual([[1, 2]]);
    // y = x·W + b with ones everywhere: 3 + 1 in each column.
    const ones = (name: string, shape: number[]) => inferInput(name, 'FP32', shape, new Float32Array(elementCount(shape)).fill(1));
    const result = await client.infer('affine_no_parameter', [ones('INPUT_0', [1, 3]), ones('INPUT_1', [3, 2]), ones('INPUT_2', [2])]);
    expect(Array.from(result.asFloat32('OUTPUT_0'))).toEqual([4, 4]);
  });

  it('serves every model init wrote, answering an infer request shaped from its config', async () => {
    const index = await client.getModelRepositoryIndex();
    expect(index.filter((m) => m.state === 'READY').map((m) => m.name).sort()).toEqual([...models].sort());
    for (const model of models) {
      const config = await client.getModelConfig(model);
      const batch = (config.max_batch_size ?? 0) > 0 ? [1] : [];
      const inputs = (config.input ?? []).map((i) => {
        const shape = [...batch, ...(i.dims ?? [])];
        return inferInput(i.name ?? '', 'FP32', shape, new Float32Array(elementCount(shape)).fill(0.5));
      });
      const result = await client.infer(model, inputs);
      for (const o of config.output ?? []) {
        expect(result.asTensor(o.name ?? '').shape, `${model} ${o.name}`).toEqual([...batch, ...(o.dims ?? [])]);
      }
    }
  }, 120_000);
});
