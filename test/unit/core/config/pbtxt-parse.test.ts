import { describe, expect, it } from 'vitest';
import { parsePbtxt } from '../../../../src/core/config/pbtxt-parse.js';
import { isOfsError } from '../../../../src/errors.js';
import { SEED_CONFIG_PBTXT as SEED } from '../../../fixtures/model-config.js';

function syntaxError(text: string): string {
  try {
    parsePbtxt(text, 'config.pbtxt');
  } catch (e) {
    if (isOfsError(e) && e.code === 'OFS_CONFIG_SYNTAX') return e.message;
    throw e;
  }
  throw new Error('expected a syntax error');
}

describe('parsePbtxt', () => {
  it('reads the OneFlow-Serving seed config', () => {
    expect(parsePbtxt(SEED, 'config.pbtxt')).toEqual({
      name: 'resnet50_oneflow',
      backend: 'oneflow',
      max_batch_size: 1,
      input: [{ name: 'INPUT_0', data_type: 'TYPE_FP32', dims: [3, 224, 224] }],
      output: [{ name: 'OUTPUT_0', data_type: 'TYPE_FP32', dims: [1000], label_filename: 'labels.txt' }],
      instance_group: [{ count: 1, kind: 'KIND_GPU', gpus: [0] }],
    });
  });

  it('reads repeated fields written either way, with any separators and brackets', () => {
    const listed = parsePbtxt('input [ { name: "a" dims: [1, 2] }, { name: "b" } ]', 'c');
    const repeated = parsePbtxt(
      `# one per block
       input { name: "a"; dims: 1, dims: 2 }
       input: < name: 'b' >`,
      'c',
    );
    expect(repeated).toEqual(listed);
    expect(listed).toEqual({ input: [{ name: 'a', dims: [1, 2] }, { name: 'b' }] });
  });

  it('appends repeated values across both forms in order', () => {
    expect(parsePbtxt('input { dims: 1 dims: [2, 3] dims: 4 }', 'c').input).toEqual([{ dims: [1, 2, 3, 4] }]);
  });

  it('reads scalars: negative and hex ints, bool spellings, enum numbers, concatenated strings', () => {
    const c = parsePbtxt(
      `name: "res" 'net' "50"
       input { dims: [-1, 0x10, 010] format: 2 data_type: 11 optional: True allow_ragged_batch: t is_shape_tensor: 1 }
       output { is_shape_tensor: false }
       response_cache { enable: true }`,
      'c',
    );
    expect(c.name).toBe('resnet50');
    expect(c.input).toEqual([
      { dims: [-1, 16, 8], format: 'FORMAT_NCHW', data_type: 'TYPE_FP32', optional: true, allow_ragged_batch: true, is_shape_tensor: true },
    ]);
    // false is proto3's zero value, so it reads as unset.
    expect(c.output).toEqual([{}]);
    expect(c.response_cache).toEqual({ enable: true });
  });

  it('leaves out zero values but keeps empty messages', () => {
    expect(parsePbtxt('max_batch_size: 0 name: "" dynamic_batching { } input { dims: [] format: FORMAT_NONE }', 'c')).toEqual({
      dynamic_batching: {},
      input: [{}],
    });
  });

  it('reads the version_policy oneof', () => {
    expect(parsePbtxt('version_policy: { latest: { num_versions: 2 } }', 'c').version_policy).toEqual({ latest: { num_versions: 2 } });
    expect(parsePbtxt('version_policy { all { } }', 'c').version_policy).toEqual({ all: {} });
    expect(parsePbtxt('version_policy { specific { versions: [1, 3] } }', 'c').version_policy).toEqual({ specific: { versions: [1, 3] } });
  });

  it('reads dynamic_batching', () => {
    const c = parsePbtxt(
      `dynamic_batching {
         preferred_batch_size: [ 4, 8 ]
         max_queue_delay_microseconds: 100
         preserve_ordering: true
         priority_levels: 2
         default_priority_level: 1
         priority_queue_policy { key: 1 value { timeout_action: DELAY max_queue_size: 5 } }
       }`,
      'c',
    );
    expect(c.dynamic_batching).toEqual({
      preferred_batch_size: [4, 8],
      max_queue_delay_microseconds: 100,
      preserve_ordering: true,
      priority_levels: 2,
      default_priority_level: 1,
      priority_queue_policy: { '1': { timeout_action: 'DELAY', max_queue_size: 5 } },
    });
  });

  it('reads maps as repeated key/value entries', () => {
    const c = parsePbtxt(
      `parameters { key: "threads" value { string_value: "4" } }
       parameters: [ { key: "mode" value: { string_value: "fast" } } ]
       parameters { key: "empty" }
       metric_tags { key: "team" value: "vision" }`,
      'c',
    );
    expect(c.parameters).toEqual({ threads: { string_value: '4' }, mode: { string_value: 'fast' }, empty: {} });
    expect(c.metric_tags).toEqual({ team: 'vision' });
  });

  it('keeps map keys that look like Object.prototype names as plain entries', () => {
    const c = parsePbtxt('metric_tags { key: "__proto__" value: "x" }', 'c');
    expect(Object.keys(c.metric_tags as object)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(c.metric_tags)).toBe(Object.prototype);
  });

  it('reads model_warmup with an inputs map and the input-data oneof', () => {
    const c = parsePbtxt(
      `model_warmup [
         {
           name: "zeros"
           batch_size: 1
           count: 2
           inputs {
             key: "INPUT_0"
             value: { data_type: TYPE_FP32 dims: [ 3, 224, 224 ] zero_data: true }
           }
           inputs [ { key: "INPUT_1" value { data_type: TYPE_UINT8 dims: 4 input_data_file: "raw.bin" } } ]
         }
       ]`,
      'c',
    );
    expect(c.model_warmup).toEqual([
      {
        name: 'zeros',
        batch_size: 1,
        count: 2,
        inputs: {
          INPUT_0: { data_type: 'TYPE_FP32', dims: [3, 224, 224], zero_data: true },
          INPUT_1: { data_type: 'TYPE_UINT8', dims: [4], input_data_file: 'raw.bin' },
        },
      },
    ]);
  });

  it('keeps a oneof member set to its zero value (oneof members have presence)', () => {
    const c = parsePbtxt('model_warmup { inputs { key: "I" value { random_data: false } } }', 'c');
    expect(c.model_warmup).toEqual([{ inputs: { I: { random_data: false } } }]);
  });

  it('reads optimization settings of onnxruntime configs', () => {
    const c = parsePbtxt(
      `optimization { execution_accelerators { cpu_execution_accelerator : [ { name : "openvino" } ] } input_pinned_memory { enable: false } }`,
      'c',
    );
    expect(c.optimization).toEqual({ execution_accelerators: { cpu_execution_accelerator: [{ name: 'openvino' }] }, input_pinned_memory: {} });
  });

  it('reads an empty file as an empty config', () => {
    expect(parsePbtxt('# nothing\n', 'c')).toEqual({});
  });
});

describe('parsePbtxt errors', () => {
  it('names unknown fields with the message type and a suggestion', () => {
    expect(syntaxError('name: "m"\ninput {\n  name: "x"\n  dimz: [1]\n}')).toBe(
      'config.pbtxt:4:3: unknown field `dimz` in ModelInput; did you mean `dims`?',
    );
    expect(syntaxError('foo: 1')).toBe('config.pbtxt:1:1: unknown field `foo` in ModelConfig');
    expect(syntaxError('\n  sequence_batching { }')).toBe(
      "config.pbtxt:2:3: field `sequence_batching` of Triton's ModelConfig is not supported by ofserve; remove it",
    );
  });

  it('points at the token where punctuation is missing', () => {
    expect(syntaxError('name "x"')).toBe('config.pbtxt:1:6: expected \':\' after field `name` of ModelConfig, found "x"');
    expect(syntaxError('max_batch_size { }')).toBe(
      "config.pbtxt:1:16: expected ':' after field `max_batch_size` of ModelConfig, found '{' (`max_batch_size` is a scalar of type int32, not a message)",
    );
    expect(syntaxError('input: "x"')).toBe('config.pbtxt:1:8: expected \'{\' after field `input` of ModelConfig, found "x"');
    expect(syntaxError('input [ { } { } ]')).toBe("config.pbtxt:1:13: expected ',' or ']' in a list, found '{'");
    expect(syntaxError('input {\n  name: "x"\n')).toBe(
      "config.pbtxt:3:1: unexpected end of file: expected '}' to close ModelInput opened at 1:7",
    );
    expect(syntaxError('input < name: "x" }')).toBe("config.pbtxt:1:19: expected a field name of ModelInput, found '}'");
  });

  it('rejects values of the wrong type', () => {
    expect(syntaxError('input { dims: [3, 2.5] }')).toBe("config.pbtxt:1:19: field `dims` of ModelInput expects an integer (int64), found '2.5'");
    expect(syntaxError('max_batch_size: "1"')).toBe('config.pbtxt:1:17: field `max_batch_size` of ModelConfig expects an integer (int32), found "1"');
    expect(syntaxError('name: model')).toBe("config.pbtxt:1:7: field `name` of ModelConfig expects a quoted string, found 'model'");
    expect(syntaxError('response_cache { enable: yes }')).toBe("config.pbtxt:1:26: field `enable` of ModelResponseCache expects true or false, found 'yes'");
    expect(syntaxError('max_batch_size: 4294967296')).toBe(
      'config.pbtxt:1:17: 4294967296 is out of range for field `max_batch_size` of ModelConfig (int32: -2147483648 to 2147483647)',
    );
    expect(syntaxError('dynamic_batching { priority_levels: -1 }')).toMatch(/^config\.pbtxt:1:37: -1 is out of range for field `priority_levels`/);
  });

  it('lists the allowed enum names', () => {
    expect(syntaxError('input {\n  data_type: FP32\n}')).toBe(
      'config.pbtxt:2:14: value for enum DataType of field `data_type` of ModelInput must be one of TYPE_INVALID, TYPE_BOOL, ' +
        'TYPE_UINT8, TYPE_UINT16, TYPE_UINT32, TYPE_UINT64, TYPE_INT8, TYPE_INT16, TYPE_INT32, TYPE_INT64, TYPE_FP16, TYPE_FP32, ' +
        "TYPE_FP64, TYPE_STRING, TYPE_BF16; found 'FP32'",
    );
    expect(syntaxError('instance_group { kind: 7 }')).toBe(
      "config.pbtxt:1:24: value for enum Kind of field `kind` of ModelInstanceGroup must be one of KIND_AUTO, KIND_GPU, KIND_CPU, KIND_MODEL (or its number); found '7'",
    );
  });

  it('rejects a non-repeated field set twice, and lists on singular fields', () => {
    expect(syntaxError('name: "a"\nname: "b"')).toBe(
      'config.pbtxt:2:1: field `name` of ModelConfig is not repeated but is set again (first set at 1:1)',
    );
    expect(syntaxError('dynamic_batching { }\ndynamic_batching { }')).toMatch(/^config\.pbtxt:2:1: field `dynamic_batching`/);
    expect(syntaxError('name: ["a"]')).toBe('config.pbtxt:1:7: field `name` of ModelConfig is not repeated; a [ ] list is not allowed');
    expect(syntaxError('version_policy [ { } ]')).toBe(
      'config.pbtxt:1:16: field `version_policy` of ModelConfig is not repeated; write `version_policy { ... }` without [ ]',
    );
  });

  it('allows only one member of a oneof', () => {
    expect(syntaxError('version_policy {\n  latest { }\n  all { }\n}')).toBe(
      'config.pbtxt:3:3: fields `latest` and `all` of ModelVersionPolicy are both set, but only one member of oneof policy_choice may be',
    );
  });

  it('rejects duplicate map keys and unknown map entry fields', () => {
    expect(syntaxError('parameters { key: "a" }\nparameters { key: "a" }')).toBe('config.pbtxt:2:12: duplicate key "a" in map `parameters`');
    expect(syntaxError('parameters { name: "a" }')).toBe('config.pbtxt:1:14: unknown field `name` in map entry of `parameters`');
  });

  it('reports lexer errors with the file name', () => {
    expect(syntaxError('name: "m"\nlabel: "x')).toBe('config.pbtxt:2:8: unterminated string');
  });
});
