import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../../src/core/config/model-config.js';
import { parsePbtxt } from '../../../../src/core/config/pbtxt-parse.js';
import {
  checkBackend,
  checkConfig,
  checkDynamicBatching,
  checkInstanceGroups,
  checkIoDeclarations,
  checkModelName,
  checkOneflowIoNames,
  checkThreadParameters,
} from '../../../../src/core/repository/config-rules.js';
import { SEED_CONFIG } from '../../../fixtures/repo.js';

const ctx = { model: 'resnet50_oneflow', file: 'resnet50_oneflow/config.pbtxt' };

/** The seed's config as objects, written out by hand. */
const seed = (): ModelConfig => ({
  name: 'resnet50_oneflow',
  backend: 'oneflow',
  max_batch_size: 1,
  input: [{ name: 'INPUT_0', data_type: 'TYPE_FP32', dims: [3, 224, 224] }],
  output: [{ name: 'OUTPUT_0', data_type: 'TYPE_FP32', dims: [1000], label_filename: 'labels.txt' }],
  instance_group: [{ count: 1, kind: 'KIND_GPU', gpus: [0] }],
});

describe('config rules', () => {
  it('find nothing wrong with the seed config, parsed from its text', () => {
    expect(checkConfig(parsePbtxt(SEED_CONFIG, ctx.file), ctx)).toEqual([]);
    expect(checkConfig(seed(), ctx)).toEqual([]);
  });

  it("report a name that differs from the folder in Triton's words", () => {
    expect(checkModelName({ ...seed(), name: 'resnet50' }, ctx)).toEqual([
      {
        severity: 'error',
        file: ctx.file,
        field: 'name',
        message: "unexpected directory name 'resnet50_oneflow' for model 'resnet50', directory name must equal model name",
        fix: expect.stringContaining('name: "resnet50_oneflow"'),
      },
    ]);
    expect(checkModelName({ ...seed(), name: undefined }, ctx)).toEqual([]);
  });

  it('report an unknown backend and an unknown platform', () => {
    const [b] = checkBackend({ ...seed(), backend: 'pytorch' }, ctx);
    expect(b).toMatchObject({ severity: 'error', file: ctx.file, field: 'backend', message: "unknown backend 'pytorch'" });
    expect(b.fix).toBeTruthy();
    const [p] = checkBackend({ platform: 'tensorrt_plan' }, ctx);
    expect(p).toMatchObject({ field: 'platform', message: expect.stringContaining("unknown platform 'tensorrt_plan'") });
    expect(checkBackend({ platform: 'onnxruntime_onnx' }, ctx)).toEqual([]);
    expect(checkBackend({ backend: 'onnxruntime', platform: 'onnxruntime_onnx' }, ctx)).toEqual([]);
    expect(checkBackend({ backend: 'oneflow', platform: 'onnxruntime_onnx' }, ctx)[0].field).toBe('platform');
  });

  it('report inputs named against the oneflow rule', () => {
    const c = { ...seed(), input: [{ name: 'image', data_type: 'TYPE_FP32' as const, dims: [3, 224, 224] }] };
    expect(checkOneflowIoNames(c, ctx)).toEqual([
      expect.objectContaining({ severity: 'error', field: 'input[0].name', message: expect.stringContaining("'image'"), fix: 'rename it INPUT_0' }),
    ]);
    expect(checkOneflowIoNames({ ...c, backend: 'onnxruntime' }, ctx)).toEqual([]);
  });

  it('report an INPUT_<i> index out of range', () => {
    const c = { ...seed(), output: [{ name: 'OUTPUT_1', data_type: 'TYPE_FP32' as const, dims: [1000] }] };
    const [p] = checkOneflowIoNames(c, ctx);
    expect(p).toMatchObject({ field: 'output[0].name', message: expect.stringContaining('OUTPUT_1 is out of range') });
  });

  it('report a duplicated INPUT_<i>', () => {
    const io = { name: 'INPUT_0', data_type: 'TYPE_FP32' as const, dims: [3] };
    const problems = checkOneflowIoNames({ ...seed(), input: [io, io] }, ctx);
    expect(problems).toEqual([expect.objectContaining({ field: 'input[1].name', message: expect.stringContaining('declared twice') })]);
    // INPUT_01 would bind to position 1 too: it is not the INPUT_<i> form.
    expect(checkOneflowIoNames({ ...seed(), input: [{ ...io, name: 'INPUT_00' }] }, ctx)[0].field).toBe('input[0].name');
  });

  it('report missing data types, missing dims, bad dims and a negative max_batch_size', () => {
    const problems = checkIoDeclarations(
      {
        name: 'm',
        max_batch_size: -2,
        input: [{ name: 'a', dims: [3, 0] }],
        output: [{ name: 'b', data_type: 'TYPE_FP32' }],
      },
      ctx,
    );
    expect(problems.map((p) => p.field).sort()).toEqual(['input[0].data_type', 'input[0].dims', 'max_batch_size']);
    const noDims = checkIoDeclarations({ input: [{ name: 'a', data_type: 'TYPE_FP32' }], output: [{ name: 'b', data_type: 'TYPE_FP32', dims: [2] }] }, ctx);
    expect(noDims).toEqual([expect.objectContaining({ field: 'input[0].dims', message: "input 'a' has no dims" })]);
  });

  it('report a config without inputs or outputs', () => {
    expect(checkIoDeclarations({ name: 'm' }, ctx).map((p) => p.field)).toEqual(['input', 'output']);
  });

  it('warn about KIND_GPU only when it is known there is no GPU', () => {
    expect(checkInstanceGroups(seed(), ctx)).toEqual([]);
    expect(checkInstanceGroups(seed(), ctx, true)).toEqual([]);
    expect(checkInstanceGroups(seed(), ctx, false)).toEqual([
      expect.objectContaining({ severity: 'warning', field: 'instance_group[0].kind', fix: expect.stringContaining('KIND_CPU') }),
    ]);
  });
});

describe('dynamic_batching rules (Triton ValidateModelConfig)', () => {
  const fieldsOf = (text: string) => checkDynamicBatching(parsePbtxt(text, ctx.file), ctx).map((p) => [p.severity, p.field]);

  it('accepts a full queue policy', () => {
    expect(
      fieldsOf(`max_batch_size: 8 dynamic_batching { preferred_batch_size: [2, 8] priority_levels: 2 default_priority_level: 2
        default_queue_policy { max_queue_size: 4 } priority_queue_policy { key: 1 value { timeout_action: DELAY default_timeout_microseconds: 5 } } }`),
    ).toEqual([]);
  });

  it('refuses preferred sizes outside 1..max_batch_size', () => {
    expect(fieldsOf('max_batch_size: 4 dynamic_batching { preferred_batch_size: [0, 4, 8] }')).toEqual([
      ['error', 'dynamic_batching.preferred_batch_size[0]'],
      ['error', 'dynamic_batching.preferred_batch_size[2]'],
    ]);
  });

  it('refuses a default level or a policy level outside 1..priority_levels', () => {
    const problems = checkDynamicBatching(
      parsePbtxt('max_batch_size: 4 dynamic_batching { priority_levels: 2 priority_queue_policy { key: 3 value { max_queue_size: 1 } } }', ctx.file),
      ctx,
    );
    expect(problems.map((p) => p.message)).toEqual([
      'default priority level must be in range [1, 2], got 0',
      'priority queue policy must have priority level in range [1, 2], got 3',
    ]);
  });

  it('refuses preserve_ordering with several levels or a DELAY timeout', () => {
    expect(
      fieldsOf(`max_batch_size: 4 dynamic_batching { preserve_ordering: true priority_levels: 2 default_priority_level: 1
        default_queue_policy { timeout_action: DELAY default_timeout_microseconds: 100 } }`),
    ).toEqual([
      ['error', 'dynamic_batching.preserve_ordering'],
      ['error', 'dynamic_batching.default_queue_policy.timeout_action'],
    ]);
  });
});

describe('fields parsed but not acted on', () => {
  it("warn once each, naming the field and what ofserve does instead (OneFlow-Serving's xrt, rate_limiter)", () => {
    const text = `${SEED_CONFIG}parameters { key: "xrt" value { string_value: "tensorrt" } }
instance_group [ { count: 1 kind: KIND_CPU rate_limiter { resources [ { name: "R" count: 1 } ] } } ]`;
    const problems = checkConfig(parsePbtxt(text, ctx.file), ctx);
    expect(problems).toEqual([
      expect.objectContaining({ severity: 'warning', field: 'instance_group[1].rate_limiter', message: expect.stringMatching(/^ofserve ignores this field: instances run whenever/) }),
      expect.objectContaining({ severity: 'warning', field: 'parameters["xrt"]', message: expect.stringContaining('XRT') }),
    ]);
  });

  it('accept intra_op_thread_count as a whole number and name the parameter when it is not one', () => {
    const withThreads = (value: string): ModelConfig => ({ ...seed(), parameters: { intra_op_thread_count: { string_value: value } } });
    expect(checkThreadParameters(withThreads('2'), ctx)).toEqual([]);
    expect(checkThreadParameters(withThreads('0'), ctx)).toEqual([]);
    for (const bad of ['two', '-1', '1.5', '99999']) {
      expect(checkThreadParameters(withThreads(bad), ctx)).toEqual([
        expect.objectContaining({ severity: 'error', field: 'parameters["intra_op_thread_count"]', message: expect.stringContaining(`'${bad}'`) }),
      ]);
    }
  });

  it('accept session.intra_op.allow_spinning as 0/1/true/false and name the parameter otherwise', () => {
    const withSpinning = (value: string): ModelConfig => ({ ...seed(), parameters: { 'session.intra_op.allow_spinning': { string_value: value } } });
    for (const good of ['0', '1', 'true', 'False', ' 1 ']) expect(checkThreadParameters(withSpinning(good), ctx)).toEqual([]);
    for (const bad of ['2', 'on', '']) {
      expect(checkThreadParameters(withSpinning(bad), ctx)).toEqual([
        expect.objectContaining({ severity: 'error', field: 'parameters["session.intra_op.allow_spinning"]', message: expect.stringContaining(`'${bad}'`) }),
      ]);
    }
    // Both parameters wrong: both named, not just the first.
    const both: ModelConfig = { ...seed(), parameters: { intra_op_thread_count: { string_value: 'x' }, 'session.intra_op.allow_spinning': { string_value: 'y' } } };
    expect(checkThreadParameters(both, ctx).map((p) => p.field)).toEqual(['parameters["intra_op_thread_count"]', 'parameters["session.intra_op.allow_spinning"]']);
  });
});
