import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../../src/commands/serve.js';
import { validate } from '../../src/commands/validate.js';
import { oneflowFixture } from '../fixtures/oneflow.js';
import { repoDir } from '../fixtures/repo.js';

/**
 * The models OneFlow itself saved (test/data/oneflow), served through `ofserve serve` and
 * checked against arithmetic done by hand: a = ones(3,4), b = ones(4), so y = x·a + b = sum(x) + 1.
 */

const affineConfig = (name: string) => `name: "${name}"
backend: "oneflow"
max_batch_size: 4
input [ { name: "INPUT_0" data_type: TYPE_FP32 dims: [ 3 ] } ]
output [ { name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 4 ] } ]
`;

// Three inputs, no weights: y = x·W + b with every operand sent by the client; no batching.
const noParameterConfig = `name: "affine_no_parameter"
backend: "oneflow"
max_batch_size: 0
input [
  { name: "INPUT_0" data_type: TYPE_FP32 dims: [ 1, 3 ] },
  { name: "INPUT_1" data_type: TYPE_FP32 dims: [ 3, 2 ] },
  { name: "INPUT_2" data_type: TYPE_FP32 dims: [ 2 ] }
]
output [ { name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 1, 2 ] } ]
`;

let store: string;
let server: RunningServer;

beforeAll(async () => {
  store = await repoDir({
    'affine/config.pbtxt': affineConfig('affine'),
    'affine_2021/config.pbtxt': affineConfig('affine_2021'),
    'affine_no_parameter/config.pbtxt': noParameterConfig,
  });
  await cp(oneflowFixture('affine_with_parameter'), join(store, 'affine', '1', 'model'), { recursive: true });
  await cp(oneflowFixture('affine_with_parameter_2021'), join(store, 'affine_2021', '1', 'model'), { recursive: true });
  await cp(oneflowFixture('affine_no_parameter'), join(store, 'affine_no_parameter', '1', 'model'), { recursive: true });
  server = await serve({ cwd: store, modelStore: '.', httpPort: 0, address: '127.0.0.1', quiet: true, installSignalHandlers: false });
});

afterAll(async () => server?.close());

async function infer(model: string, inputs: Array<{ name: string; shape: number[]; data: number[] }>) {
  const res = await fetch(`${server.urls.http}/v2/models/${model}/infer`, {
    method: 'POST',
    body: JSON.stringify({ inputs: inputs.map((i) => ({ ...i, datatype: 'FP32' })) }),
  });
  const body = (await res.json()) as { outputs?: Array<{ name: string; shape: number[]; data: number[] }>; error?: string };
  return { status: res.status, body };
}

describe('OneFlow fixtures served', () => {
  it('validate finds nothing wrong with them', async () => {
    const report = await validate({ cwd: store, modelStore: '.' });
    expect(report.errors, JSON.stringify(report.models)).toBe(0);
  });

  for (const model of ['affine', 'affine_2021']) {
    it(`${model}: a batch of two rows gives sum(x) + 1 in every column`, async () => {
      const { status, body } = await infer(model, [{ name: 'INPUT_0', shape: [2, 3], data: [1, 2, 3, 0.5, -1, 4] }]);
      expect(status, body.error).toBe(200);
      expect(body.outputs?.[0]).toMatchObject({ name: 'OUTPUT_0', shape: [2, 4], data: [7, 7, 7, 7, 4.5, 4.5, 4.5, 4.5] });
    });
  }

  it('affine_no_parameter: x·W + b with all three operands from the request', async () => {
    const { status, body } = await infer('affine_no_parameter', [
      { name: 'INPUT_0', shape: [1, 3], data: [1, 2, 3] },
      { name: 'INPUT_1', shape: [3, 2], data: [1, 2, 3, 4, 5, 6] },
      { name: 'INPUT_2', shape: [2], data: [10, 20] },
    ]);
    expect(status, body.error).toBe(200);
    // [1·1 + 2·3 + 3·5 + 10, 1·2 + 2·4 + 3·6 + 20]
    expect(body.outputs?.[0]).toMatchObject({ shape: [1, 2], data: [32, 48] });
  });
});
