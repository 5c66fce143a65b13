import { describe, expect, it } from 'vitest';
import { configFromTritonJson } from '../../../../src/core/config/config-from-json.js';
import { configToTritonJson } from '../../../../src/core/config/config-json.js';
import { normalizeConfig } from '../../../../src/core/config/normalize.js';
import { parsePbtxt } from '../../../../src/core/config/pbtxt-parse.js';
import { isOfsError } from '../../../../src/errors.js';
import { SEED_CONFIG_PBTXT } from '../../../fixtures/model-config.js';

const seed = () => normalizeConfig(parsePbtxt(SEED_CONFIG_PBTXT, 'config.pbtxt'), { modelName: 'resnet50_oneflow', gpuAvailable: false });

describe('configToTritonJson', () => {
  it('prints every primitive field with its default, enums by name, int64 as numbers', () => {
    expect(configToTritonJson(seed())).toEqual({
      name: 'resnet50_oneflow',
      platform: '',
      version_policy: { latest: { num_versions: 1 } },
      max_batch_size: 1,
      input: [
        {
          name: 'INPUT_0',
          data_type: 'TYPE_FP32',
          format: 'FORMAT_NONE',
          dims: [3, 224, 224],
          is_shape_tensor: false,
          allow_ragged_batch: false,
          optional: false,
          is_non_linear_format_io: false,
        },
      ],
      output: [
        { name: 'OUTPUT_0', data_type: 'TYPE_FP32', dims: [1000], label_filename: 'labels.txt', is_shape_tensor: false, is_non_linear_format_io: false },
      ],
      instance_group: [
        { name: 'resnet50_oneflow_0', count: 1, gpus: [0], kind: 'KIND_GPU', profile: [], passive: false, host_policy: '' },
      ],
      default_model_filename: '',
      cc_model_filenames: {},
      metric_tags: {},
      parameters: {},
      model_warmup: [],
      backend: 'oneflow',
      runtime: '',
    });
  });

  it('orders keys by field number', () => {
    expect(Object.keys(configToTritonJson(seed())).slice(0, 6)).toEqual(['name', 'platform', 'version_policy', 'max_batch_size', 'input', 'output']);
  });

  it('prints set messages with their defaults, oneof members only when set', () => {
    const json = configToTritonJson(
      parsePbtxt(
        `dynamic_batching { }
         model_transaction_policy { }
         model_warmup { inputs { key: "I" value { dims: 2 zero_data: true } } }`,
        'c',
      ),
    );
    expect(json.dynamic_batching).toEqual({
      preferred_batch_size: [],
      max_queue_delay_microseconds: 0,
      preserve_ordering: false,
      priority_levels: 0,
      default_priority_level: 0,
      priority_queue_policy: {},
    });
    expect(json.model_transaction_policy).toEqual({ decoupled: false });
    expect(json.model_warmup).toEqual([{ name: '', batch_size: 0, inputs: { I: { data_type: 'TYPE_INVALID', dims: [2], zero_data: true } }, count: 0 }]);
    expect(json).not.toHaveProperty('response_cache');
    expect(json).not.toHaveProperty('optimization');
  });
});

describe('configFromTritonJson', () => {
  it('reads back what configToTritonJson prints', () => {
    const config = seed();
    const json = JSON.parse(JSON.stringify(configToTritonJson(config)));
    expect(configToTritonJson(configFromTritonJson(json, 'load'))).toEqual(json);
    // Zero values drop out, as parsePbtxt would leave them.
    expect(configFromTritonJson(json, 'load').platform).toBeUndefined();
  });

  it('accepts JSON names, enum numbers and 64-bit integers as strings', () => {
    expect(
      configFromTritonJson({ maxBatchSize: 2, input: [{ dataType: 11, dims: ['3', '-1'] }], versionPolicy: { specific: { versions: ['7'] } } }, 'load'),
    ).toEqual({ max_batch_size: 2, input: [{ data_type: 'TYPE_FP32', dims: [3, -1] }], version_policy: { specific: { versions: [7] } } });
  });

  it('rejects unknown fields, bad values and two oneof members', () => {
    const problem = (json: unknown): string => {
      try {
        configFromTritonJson(json, 'load');
      } catch (e) {
        if (isOfsError(e) && e.code === 'OFS_CONFIG_INVALID') return e.message;
        throw e;
      }
      throw new Error('expected an error');
    };
    expect(problem({ inputs: [] })).toBe('invalid model configuration load:\n  config.inputs: unknown field in ModelConfig');
    expect(problem({ input: [{ dims: [1.5] }] })).toBe('invalid model configuration load:\n  config.input[0].dims[0]: expected an integer (int64)');
    expect(problem({ input: [{ data_type: 'FP32' }] })).toMatch(/config\.input\[0\]\.data_type: expected one of TYPE_INVALID, /);
    expect(problem({ max_batch_size: 2 ** 31 })).toMatch(/config\.max_batch_size: 2147483648 is out of range for int32/);
    expect(problem({ version_policy: { all: {}, latest: {} } })).toMatch(/config\.version_policy\.latest: only one of oneof policy_choice may be set/);
    expect(problem([])).toMatch(/config: expected an object for ModelConfig/);
  });
});
