import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../../src/core/config/model-config.js';
import { parsePbtxt } from '../../../../src/core/config/pbtxt-parse.js';
import { checkEnsemble, orderSteps, type ComposingModel } from '../../../../src/core/repository/ensemble-rules.js';

const ctx = { model: 'pipe', file: 'pipe/config.pbtxt' };

const models: Record<string, ComposingModel> = {
  pre: {
    name: 'pre',
    versions: [1],
    config: parsePbtxt(
      `backend: "image_preprocess" max_batch_size: 8
       input [ { name: "RAW" data_type: TYPE_STRING dims: [ 1 ] } ]
       output [ { name: "PIXELS" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ]`,
      'pre/config.pbtxt',
    ),
  },
  cls: {
    name: 'cls',
    versions: [1, 2],
    config: parsePbtxt(
      `backend: "onnxruntime" max_batch_size: 4
       input [ { name: "INPUT_0" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ]
       output [ { name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 1000 ] } ]`,
      'cls/config.pbtxt',
    ),
  },
};
const lookup = (n: string) => models[n];

function ensemble(steps: string, extra = '', batch = 4): ModelConfig {
  return parsePbtxt(
    `name: "pipe" platform: "ensemble" max_batch_size: ${batch}
     input [ { name: "IMAGE" data_type: TYPE_STRING dims: [ 1 ] } ]
     output [ { name: "SCORES" data_type: TYPE_FP32 dims: [ 1000 ] } ]
     ${extra}
     ensemble_scheduling { step [ ${steps} ] }`,
    ctx.file,
  );
}

const PRE = `{ model_name: "pre" model_version: -1 input_map { key: "RAW" value: "IMAGE" } output_map { key: "PIXELS" value: "pixels" } }`;
const CLS = `{ model_name: "cls" model_version: -1 input_map { key: "INPUT_0" value: "pixels" } output_map { key: "OUTPUT_0" value: "SCORES" } }`;

const fields = (config: ModelConfig) => checkEnsemble(config, ctx, lookup).map((p) => `${p.severity} ${p.field}: ${p.message}`);

describe('checkEnsemble', () => {
  it('accepts a well-formed two-step pipeline', () => {
    expect(fields(ensemble(`${PRE}, ${CLS}`))).toEqual([]);
  });

  it('names an unknown composing model with file, field and fix', () => {
    const problems = checkEnsemble(ensemble(`${PRE}, ${CLS.replace('"cls"', '"nope"')}`), ctx, lookup);
    const p = problems.find((x) => x.field === 'ensemble_scheduling.step[1].model_name');
    expect(p).toMatchObject({ severity: 'error', file: 'pipe/config.pbtxt' });
    expect(p?.message).toContain("model 'nope' (step 1), which is not in the model repository");
    expect(p?.fix).toContain('nope/');
  });

  it('reports a tensor no step produces and an ensemble output nobody produces', () => {
    const got = fields(ensemble(`${PRE}, ${CLS.replace('value: "pixels"', 'value: "pixelz"').replace('value: "SCORES"', 'value: "other"')}`));
    expect(got).toContain("error ensemble_scheduling.step[1].input_map: tensor 'pixelz' read by step 1 (model 'cls') is produced by no step and is not an ensemble input");
    expect(got).toContain("error output[0]: ensemble output 'SCORES' is produced by no step");
  });

  it('reports a cycle', () => {
    const a = `{ model_name: "cls" input_map { key: "INPUT_0" value: "x" } output_map { key: "OUTPUT_0" value: "y" } }`;
    const b = `{ model_name: "cls" input_map { key: "INPUT_0" value: "y" } output_map { key: "OUTPUT_0" value: "x" } }`;
    const got = fields(ensemble(`${a}, ${b}`));
    expect(got.some((g) => g.startsWith('error ensemble_scheduling.step: steps 0, 1') && g.includes('cycle'))).toBe(true);
    expect(orderSteps([{ input_map: { a: 'IN' }, output_map: { b: 't' } }, { input_map: { a: 't' }, output_map: { b: 'OUT' } }])).toEqual({ order: [0, 1], cyclic: [] });
  });

  it('reports data type and shape mismatches on an edge', () => {
    models.bad = {
      name: 'bad',
      versions: [1],
      config: parsePbtxt(
        `max_batch_size: 8 input [ { name: "IN" data_type: TYPE_FP16 dims: [ 3, 100, 100 ] } ] output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 1000 ] } ]`,
        'bad/config.pbtxt',
      ),
    };
    const step = `{ model_name: "bad" input_map { key: "IN" value: "pixels" } output_map { key: "OUT" value: "SCORES" } }`;
    const got = fields(ensemble(`${PRE}, ${step}`));
    expect(got).toContain("error ensemble_scheduling.step[1].input_map: tensor 'pixels': step 0 (model 'pre' output 'PIXELS') is FP32 but model 'bad' input 'IN' is FP16");
    expect(got.some((g) => g.includes("has shape [-1,3,224,224] but model 'bad' input 'IN' expects [-1,3,100,100]"))).toBe(true);
  });

  it('reports max_batch_size larger than a composing model allows', () => {
    const got = fields(ensemble(`${PRE}, ${CLS}`, '', 8));
    expect(got).toContain("error max_batch_size: ensemble 'pipe' allows batches of 8, but its step 1 model 'cls' only allows max_batch_size 4");
  });

  it('reports unknown map keys, unmapped inputs, versions not served, and a tensor produced twice', () => {
    const step = `{ model_name: "cls" model_version: 7 input_map { key: "INPUT_9" value: "IMAGE" } output_map [ { key: "OUTPUT_0" value: "IMAGE" }, { key: "NOPE" value: "SCORES" } ] }`;
    const got = fields(ensemble(step));
    expect(got).toEqual(
      expect.arrayContaining([
        'error ensemble_scheduling.step[0].model_version: step 0 asks for version 7 of model \'cls\', which serves versions [1, 2]',
        "error ensemble_scheduling.step[0].input_map: model 'cls' has no input 'INPUT_9' (step 0)",
        "error ensemble_scheduling.step[0].input_map: step 0 gives model 'cls' no value for its input 'INPUT_0'",
        "error ensemble_scheduling.step[0].output_map: model 'cls' has no output 'NOPE' (step 0)",
        "error ensemble_scheduling.step[0].output_map: ensemble tensor 'IMAGE' is produced twice: by ensemble input 'IMAGE' and by step 0",
      ]),
    );
  });

  it('refuses ensemble_scheduling without platform "ensemble", an empty step list and instance_group', () => {
    const notEnsemble = parsePbtxt(`backend: "onnxruntime" ensemble_scheduling { step [ ${CLS} ] }`, ctx.file);
    expect(fields(notEnsemble)).toEqual(['error ensemble_scheduling: ensemble_scheduling is set but platform is not "ensemble"']);
    expect(fields(parsePbtxt('platform: "ensemble"', ctx.file))).toEqual(["error ensemble_scheduling.step: ensemble 'pipe' has no steps"]);
    expect(fields(ensemble(`${PRE}, ${CLS}`, 'instance_group [ { kind: KIND_CPU } ]'))).toContain(
      'error instance_group: an ensemble does not take instance_group: it runs no model itself',
    );
  });

  it('warns about an ensemble input no step reads', () => {
    const config = ensemble(`${PRE}, ${CLS}`);
    config.input?.push({ name: 'UNUSED', data_type: 'TYPE_FP32', dims: [1] });
    expect(fields(config)).toEqual(["warning input[1]: ensemble input 'UNUSED' is read by no step"]);
  });
});
