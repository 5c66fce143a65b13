import { afterAll, describe, expect, it } from 'vitest';
import { BackendRegistry, type Backend, type ModelSource, type Session } from '../../src/core/backend.js';
import { silentLogger } from '../../src/core/log.js';
import { ModelManager, type ControlMode } from '../../src/core/repository/model-manager.js';
import { validateRepository } from '../../src/core/repository/validate.js';
import { DataPlane } from '../../src/server/dataplane.js';
import { createGrpcServer } from '../../src/server/grpc/server.js';
import { createHttpApp } from '../../src/server/http/app.js';
import { f32, FakeSession } from '../fixtures/fake-models.js';
import { colourClassifierOnnx } from '../fixtures/models.js';
import { removeRepoDirs, repoDir } from '../fixtures/repo.js';
import { connect } from '../unit/server/grpc/grpc-client.js';

/**
 * An ensemble in a real model store, loaded by the lifecycle and served over HTTP and gRPC: two
 * composing models (the colour classifier's IO) run side by side on the ensemble's input; a backend
 * whose sessions answer fixed scores per model stands in for onnxruntime.
 */

afterAll(removeRepoDirs);

const colour = colourClassifierOnnx();
const CLASSES = colour.labels.length;

const composing = (name: string) => `name: "${name}"
backend: "onnxruntime"
max_batch_size: 8
input [ { name: "INPUT_0" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ]
output [ { name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ ${CLASSES} ] label_filename: "labels.txt" } ]
`;
const step = (model: string, to: string) =>
  `{ model_name: "${model}" model_version: -1 input_map { key: "INPUT_0" value: "IMAGE" } output_map { key: "OUTPUT_0" value: "${to}" } }`;
const ENSEMBLE = `name: "both"
platform: "ensemble"
max_batch_size: 4
input [ { name: "IMAGE" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ]
output [
  { name: "A" data_type: TYPE_FP32 dims: [ ${CLASSES} ] label_filename: "labels.txt" },
  { name: "B" data_type: TYPE_FP32 dims: [ ${CLASSES} ] }
]
ensemble_scheduling { step [ ${step('colour_a', 'A')}, ${step('colour_b', 'B')} ] }
`;
const ensembleLabels = Array.from({ length: CLASSES }, (_, i) => `ensemble label ${i}`);

function store(extra: Record<string, string | Uint8Array> = {}) {
  return repoDir({
    'colour_a/config.pbtxt': composing('colour_a'),
    'colour_a/1/model.onnx': colour.onnx,
    'colour_a/labels.txt': colour.labels.map((l) => `${l}\n`).join(''),
    'colour_b/config.pbtxt': composing('colour_b'),
    'colour_b/1/model.onnx': colour.onnx,
    'colour_b/labels.txt': colour.labels.map((l) => `${l}\n`).join(''),
    'both/config.pbtxt': ENSEMBLE,
    'both/1/': '',
    'both/labels.txt': ensembleLabels.map((l) => `${l}\n`).join(''),
    ...extra,
  });
}

/** Class i scores i for colour_a and (CLASSES - i) for colour_b. */
class ScoringBackend implements Backend {
  readonly name = 'scoring';
  async devices() {
    return ['cpu' as const];
  }
  async createSession(source: ModelSource): Promise<Session> {
    return new FakeSession(source.graph.inputs, source.graph.outputs, (inputs) => {
      const rows = inputs[0].shape[0];
      const out = new Float32Array(rows * CLASSES);
      for (let i = 0; i < out.length; i++) out[i] = source.model === 'colour_a' ? i % CLASSES : CLASSES - (i % CLASSES);
      return [f32('OUTPUT_0', [rows, CLASSES], out)];
    });
  }
}

function lifecycle(storeDir: string, controlMode: ControlMode, startupModels: string[] = []) {
  const backends = new BackendRegistry();
  backends.register(new ScoringBackend(), 1);
  return new ModelManager({ storeDir, backends, gpu: { available: false, reason: 'test' }, strict: false, controlMode, startupModels, log: silentLogger, threads: 1 });
}

const IMAGE_BYTES = 3 * 224 * 224 * 4;

describe('ensembles in a model store', () => {
  it('validate accepts the store; serve loads the ensemble and classifies with its own labels over HTTP and gRPC', async () => {
    const dir = await store();
    const report = await validateRepository(dir);
    expect(report.models.flatMap((m) => m.problems)).toEqual([]);

    const lc = lifecycle(dir, 'none');
    expect(await lc.start()).toEqual([]);
    expect(lc.index().map((e) => `${e.name}:${e.state}`)).toEqual(['both:READY', 'colour_a:READY', 'colour_b:READY']);
    const dataplane = new DataPlane({ catalog: lc });
    expect(dataplane.modelMetadata('both').platform).toBe('ensemble');
    expect(dataplane.modelConfig('both').instance_group).toEqual([]);

    // HTTP, binary tensor extension, classification on both outputs.
    const app = createHttpApp({ dataplane, bodyLimit: 8 * 1024 * 1024 });
    const header = JSON.stringify({
      inputs: [{ name: 'IMAGE', shape: [1, 3, 224, 224], datatype: 'FP32', parameters: { binary_data_size: IMAGE_BYTES } }],
      outputs: [
        { name: 'A', parameters: { classification: 2, binary_data: false } },
        { name: 'B', parameters: { classification: 1, binary_data: false } },
      ],
    });
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/both/infer',
      headers: { 'inference-header-content-length': String(Buffer.byteLength(header)) },
      payload: Buffer.concat([Buffer.from(header), Buffer.alloc(IMAGE_BYTES)]),
    });
    expect(res.statusCode).toBe(200);
    const json = res.json();
    expect(json.model_name).toBe('both');
    const top = CLASSES - 1;
    // A uses the ensemble's label file; B has none, so it answers score:index only (as Triton).
    expect(json.outputs[0].data).toEqual([`${top.toFixed(6)}:${top}:ensemble label ${top}`, `${(top - 1).toFixed(6)}:${top - 1}:ensemble label ${top - 1}`]);
    expect(json.outputs[1].data).toEqual([`${CLASSES.toFixed(6)}:0`]);

    // gRPC.
    const server = createGrpcServer({ dataplane, shutdownGraceMs: 200 });
    const port = await server.listen('127.0.0.1', 0);
    const client = connect(port);
    try {
      const r = await client.call<Record<string, any>>('ModelInfer', {
        model_name: 'both',
        inputs: [{ name: 'IMAGE', datatype: 'FP32', shape: [2, 3, 224, 224] }],
        outputs: [{ name: 'A', parameters: { classification: { int64_param: 1 } } }],
        raw_input_contents: [new Uint8Array(2 * IMAGE_BYTES)],
      });
      expect(r.outputs.map((o: any) => [o.name, o.datatype, o.shape.map(Number)])).toEqual([['A', 'BYTES', [2, 1]]]);
      const text = Buffer.from(r.raw_output_contents[0]).toString('latin1');
      expect(text.match(/ensemble label \d+/g)).toEqual([`ensemble label ${top}`, `ensemble label ${top}`]);

      // Statistics: the ensemble counts its 2 requests; colour_a ran for both, colour_b only for HTTP's.
      const stats = await client.call<Record<string, any>>('ModelStatistics', {});
      const byName = Object.fromEntries(stats.model_stats.map((s: any) => [s.name, s]));
      expect(Number(byName.both.inference_stats.success.count)).toBe(2);
      expect(Number(byName.both.inference_count)).toBe(3);
      expect(Number(byName.colour_a.inference_stats.success.count)).toBe(2);
      expect(Number(byName.colour_b.inference_stats.success.count)).toBe(1);
      expect(Number(byName.colour_a.inference_count)).toBe(3);
    } finally {
      client.close();
      await server.close();
      await app.close();
      await lc.stop();
    }
  });

  it('in explicit mode, loading the ensemble loads its composing models, which also serve on their own', async () => {
    const dir = await store();
    const lc = lifecycle(dir, 'explicit');
    expect(await lc.start()).toEqual([]);
    expect(lc.index()).toEqual([]);
    await lc.load('both');
    expect(lc.index().map((e) => `${e.name}:${e.state}`)).toEqual(['both:READY', 'colour_a:READY', 'colour_b:READY']);
    const dataplane = new DataPlane({ catalog: lc });
    const direct = await dataplane.infer({ model: 'colour_b', inputs: [{ name: 'INPUT_0', datatype: 'FP32', shape: [1, 3, 224, 224], data: new Uint8Array(IMAGE_BYTES) }] });
    expect(direct.outputs[0].shape).toEqual([1, CLASSES]);
    // Unloading the ensemble leaves the composing models loaded (Triton's default, no unload_dependents).
    await lc.unload('both');
    expect(lc.index().map((e) => `${e.name}:${e.state}`)).toEqual(['colour_a:READY', 'colour_b:READY']);
    await lc.stop();
  });

  it('ensembles that use each other are a cycle: validate says so and neither loads (no request loops forever)', async () => {
    const loop = (name: string, other: string) => `name: "${name}" platform: "ensemble" max_batch_size: 4
input [ { name: "IMAGE" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ]
output [ { name: "A" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ]
ensemble_scheduling { step [ { model_name: "${other}" input_map { key: "IMAGE" value: "IMAGE" } output_map { key: "A" value: "A" } } ] }
`;
    const dir = await store({ 'ping/config.pbtxt': loop('ping', 'pong'), 'ping/1/': '', 'pong/config.pbtxt': loop('pong', 'ping'), 'pong/1/': '' });
    const report = await validateRepository(dir);
    const messages = (name: string) => report.models.find((m) => m.name === name)?.problems.map((p) => p.message) ?? [];
    expect(messages('ping')).toContain('ensembles use each other in a cycle: ping → pong → ping; a request would never finish');
    expect(messages('pong')).toContain('ensembles use each other in a cycle: pong → ping → pong; a request would never finish');
    const lc = lifecycle(dir, 'none');
    const failures = await lc.start();
    expect(failures.map((f) => f.model).sort()).toEqual(['ping', 'pong']);
    expect(lc.index().filter((e) => e.state === 'READY').map((e) => e.name)).toEqual(['both', 'colour_a', 'colour_b']);
    await lc.stop();
  });

  it('an ensemble whose composing model fails to load is not ready, and names that model', async () => {
    // colour_b's config still agrees with the ensemble, but its payload is not where it says.
    const dir = await store({ 'colour_b/config.pbtxt': `${composing('colour_b')}default_model_filename: "missing.onnx"\n` });
    const lc = lifecycle(dir, 'none');
    const failures = await lc.start();
    expect(failures.map((f) => f.model).sort()).toEqual(['both', 'colour_b']);
    expect(failures.find((f) => f.model === 'both')?.reason).toMatch(/^composing model 'colour_b' of step 1 is not available: /);
    expect(lc.index().find((e) => e.name === 'colour_a')?.state).toBe('READY');
    await lc.stop();
  });

  it('an ensemble whose step names a model not in the store does not load, and says why', async () => {
    const dir = await store({ 'both/config.pbtxt': ENSEMBLE.replace('"colour_b"', '"colour_c"') });
    const report = await validateRepository(dir);
    const problems = report.models.find((m) => m.name === 'both')?.problems ?? [];
    expect(problems.map((p) => `${p.file}: ${p.field}`)).toEqual(['both/config.pbtxt: ensemble_scheduling.step[1].model_name']);
    const lc = lifecycle(dir, 'explicit');
    await lc.start();
    await expect(lc.load('both')).rejects.toThrow("model 'colour_c' (step 1), which is not in the model repository");
    await lc.stop();
  });
});
