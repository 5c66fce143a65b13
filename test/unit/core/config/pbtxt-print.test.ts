import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../../src/core/config/model-config.js';
import { parsePbtxt } from '../../../../src/core/config/pbtxt-parse.js';
import { printPbtxt } from '../../../../src/core/config/pbtxt-print.js';
import { SEED_CONFIG_PBTXT } from '../../../fixtures/model-config.js';

function roundTrip(text: string): { first: ModelConfig; second: ModelConfig; printed: string } {
  const first = parsePbtxt(text, 'a.pbtxt');
  const printed = printPbtxt(first);
  return { first, second: parsePbtxt(printed, 'b.pbtxt'), printed };
}

const RICH = `
# every construct the parser knows, written in mixed styles
name: "classifier"   # trailing comment
platform: 'onnxruntime_onnx'
version_policy { specific: { versions: [ 1, 3 ] } }
max_batch_size: 8
input {
  name: "INPUT_0"
  data_type: TYPE_UINT8
  format: FORMAT_NHWC
  dims: 224 dims: 224 dims: 3
  reshape { shape: [ 1, 224, 224, 3 ] }
}
input [ { name: "SCALE" data_type: 10 dims: [ -1 ] optional: true } ]
output < name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 1000 ] label_filename: "labels.txt" >
instance_group [ { name: "cpus" kind: KIND_CPU count: 2 }, { kind: KIND_GPU gpus: [ 0, 1 ] profile: [ "0" ] passive: true } ]
default_model_filename: "model.onnx"
dynamic_batching { preferred_batch_size: [ 4, 8 ] max_queue_delay_microseconds: 500
  default_queue_policy { timeout_action: DELAY default_timeout_microseconds: 1000 allow_timeout_override: true }
  priority_queue_policy { key: 2 value { max_queue_size: 16 } } }
parameters { key: "note" value { string_value: "tab\\there \\"quoted\\" \\\\ done" } }
parameters { key: "empty" value { } }
metric_tags { key: "team" value: "vision" }
optimization { graph { level: 1 } priority: PRIORITY_MAX execution_accelerators { gpu_execution_accelerator [ { name: "tensorrt" parameters { key: "precision_mode" value: "FP16" } } ] } }
model_warmup [ { name: "w" batch_size: 2 inputs { key: "INPUT_0" value { data_type: TYPE_UINT8 dims: [ 224, 224, 3 ] random_data: true } } count: 3 } ]
model_transaction_policy { decoupled: false }
response_cache { enable: true }
backend: "onnxruntime"
runtime: "model.so"
`;

describe('printPbtxt', () => {
  it('prints the seed config identity first, then field-number order, lists inline and messages in brackets', () => {
    expect(printPbtxt(parsePbtxt(SEED_CONFIG_PBTXT, 'config.pbtxt'))).toBe(
      [
        'name: "resnet50_oneflow"',
        'backend: "oneflow"',
        'max_batch_size: 1',
        'input [',
        '  {',
        '    name: "INPUT_0"',
        '    data_type: TYPE_FP32',
        '    dims: [ 3, 224, 224 ]',
        '  }',
        ']',
        'output [',
        '  {',
        '    name: "OUTPUT_0"',
        '    data_type: TYPE_FP32',
        '    dims: [ 1000 ]',
        '    label_filename: "labels.txt"',
        '  }',
        ']',
        'instance_group [',
        '  {',
        '    count: 1',
        '    gpus: [ 0 ]',
        '    kind: KIND_GPU',
        '  }',
        ']',
        '',
      ].join('\n'),
    );
  });

  it('separates list elements with commas and prints maps as key/value blocks', () => {
    const text = printPbtxt({
      instance_group: [{ count: 1 }, { count: 2 }],
      parameters: { k: { string_value: 'v' } },
      version_policy: { all: {} },
    });
    expect(text).toBe(
      [
        'version_policy {',
        '  all { }',
        '}',
        'instance_group [',
        '  {',
        '    count: 1',
        '  },',
        '  {',
        '    count: 2',
        '  }',
        ']',
        'parameters {',
        '  key: "k"',
        '  value {',
        '    string_value: "v"',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('omits unset fields and proto3 zero values', () => {
    expect(printPbtxt({ name: '', max_batch_size: 0, input: [], dynamic_batching: { preserve_ordering: false } })).toBe('dynamic_batching { }\n');
    expect(printPbtxt({})).toBe('');
  });

  it('escapes strings so they read back the same', () => {
    const name = 'a "b" \\ c\nd\te\u0001 é';
    expect(printPbtxt({ name })).toBe('name: "a \\"b\\" \\\\ c\\nd\\te\\001 é"\n');
    expect(parsePbtxt(printPbtxt({ name }), 'c').name).toBe(name);
  });

  it('refuses fields outside the schema and values of the wrong type', () => {
    expect(() => printPbtxt({ sequence_batching: {} })).toThrow(/ModelConfig\.sequence_batching is not a field of ModelConfig/);
    expect(() => printPbtxt({ input: [{ dims: ['3'] }] } as unknown as ModelConfig)).toThrow(/ModelConfig\.input\[0\]\.dims\[0\] must be an integer/);
    expect(() => printPbtxt({ input: [{ data_type: 'FP32' }] } as unknown as ModelConfig)).toThrow(/must be one of TYPE_INVALID/);
  });
});

describe('parse → print → parse', () => {
  it('is lossless on the seed config', () => {
    const { first, second } = roundTrip(SEED_CONFIG_PBTXT);
    expect(second).toEqual(first);
  });

  it('is lossless on a config using every construct', () => {
    const { first, second, printed } = roundTrip(RICH);
    expect(second).toEqual(first);
    // Spot checks that the rich config really parsed the constructs it claims to exercise.
    expect(first.input?.[0].dims).toEqual([224, 224, 3]);
    expect(first.input?.[1].data_type).toBe('TYPE_FP16');
    expect((first.parameters?.note as { string_value: string }).string_value).toBe('tab\there "quoted" \\ done');
    expect(first.parameters?.empty).toEqual({});
    expect(first.model_transaction_policy).toEqual({});
    expect(printed).toContain('    random_data: true');
    // Printing is a fixed point: printing what was read back gives the same text.
    expect(printPbtxt(second)).toBe(printed);
  });
});
