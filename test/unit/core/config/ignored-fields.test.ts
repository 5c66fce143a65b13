import { describe, expect, it } from 'vitest';
import { ignoredFields } from '../../../../src/core/config/ignored-fields.js';
import { parsePbtxt } from '../../../../src/core/config/pbtxt-parse.js';

const fields = (text: string): string[] => ignoredFields(parsePbtxt(text, 'config.pbtxt')).map((f) => f.field);

describe('ignoredFields', () => {
  it('finds nothing in a config that only uses what ofserve acts on', () => {
    const text = `
      name: "m" backend: "oneflow" max_batch_size: 8
      input [{ name: "INPUT_0" data_type: TYPE_FP32 format: FORMAT_NCHW dims: [3, 224, 224] optional: false }]
      output [{ name: "OUTPUT_0" data_type: TYPE_FP32 dims: [1000] label_filename: "labels.txt" }]
      instance_group [{ kind: KIND_CPU count: 2 }]
      dynamic_batching { preferred_batch_size: [4] max_queue_delay_microseconds: 100 priority_levels: 2 default_priority_level: 1
        preserve_ordering: true
        default_queue_policy { max_queue_size: 4 timeout_action: DELAY default_timeout_microseconds: 10 allow_timeout_override: true } }
      response_cache { enable: true }
      optimization { priority: PRIORITY_DEFAULT }
      model_transaction_policy { decoupled: false }`;
    expect(fields(text)).toEqual([]);
  });

  it("names OneFlow-Serving's xrt parameter and says what runs instead", () => {
    const found = ignoredFields(
      parsePbtxt('backend: "oneflow" parameters { key: "xrt" value { string_value: "tensorrt" } }', 'config.pbtxt'),
    );
    expect(found).toEqual([{ field: 'parameters["xrt"]', instead: expect.stringContaining('XRT') }]);
    expect(found[0].instead).toMatch(/onnxruntime/);
  });

  it('reports parameters of the onnxruntime backend (explicit or via platform) it does not read, but not of other backends', () => {
    const p = 'parameters { key: "enable_mem_arena" value { string_value: "0" } }';
    expect(fields(`backend: "onnxruntime" ${p}`)).toEqual(['parameters["enable_mem_arena"]']);
    expect(fields(`platform: "onnxruntime_onnx" ${p}`)).toEqual(['parameters["enable_mem_arena"]']);
    expect(fields(`backend: "someone_elses" ${p}`)).toEqual([]);
  });

  it('reads intra_op_thread_count, as Triton\'s onnxruntime backend does, for onnxruntime and oneflow models', () => {
    const p = 'parameters { key: "intra_op_thread_count" value { string_value: "2" } }';
    expect(fields(`backend: "onnxruntime" ${p}`)).toEqual([]);
    expect(fields(`backend: "oneflow" ${p}`)).toEqual([]);
  });

  it('reads session.intra_op.allow_spinning for onnxruntime and oneflow models', () => {
    const p = 'parameters { key: "session.intra_op.allow_spinning" value { string_value: "1" } }';
    expect(fields(`backend: "onnxruntime" ${p}`)).toEqual([]);
    expect(fields(`backend: "oneflow" ${p}`)).toEqual([]);
  });

  it('lists every set field of the table with its path', () => {
    const text = `
      runtime: "libtriton_onnxruntime.so"
      cc_model_filenames { key: "7.5" value: "a.plan" }
      metric_tags { key: "team" value: "vision" }
      input [{ name: "a" data_type: TYPE_FP32 dims: [1] reshape { shape: [] } allow_ragged_batch: true },
             { name: "b" data_type: TYPE_FP32 dims: [1] is_shape_tensor: true is_non_linear_format_io: true }]
      output [{ name: "y" data_type: TYPE_FP32 dims: [1] reshape { shape: [1, 1] } }]
      instance_group [{ count: 1 }, { count: 1 profile: ["0"] passive: true host_policy: "numa0"
        rate_limiter { resources [{ name: "R1" count: 4 }] priority: 2 } }]
      dynamic_batching { preserve_ordering: true }
      optimization { graph { level: 1 } cuda { graphs: true } execution_accelerators { gpu_execution_accelerator [{ name: "tensorrt" }] }
        input_pinned_memory { enable: true } eager_batching: true }
      model_transaction_policy { decoupled: true }`;
    expect(fields(text)).toEqual([
      'runtime',
      'cc_model_filenames',
      'metric_tags',
      'model_transaction_policy.decoupled',
      'optimization.graph',
      'optimization.cuda',
      'optimization.execution_accelerators',
      'optimization.input_pinned_memory',
      'optimization.eager_batching',
      'input[0].reshape',
      'output[0].reshape',
      'input[1].is_shape_tensor',
      'input[1].is_non_linear_format_io',
      'input[0].allow_ragged_batch',
      'instance_group[1].rate_limiter',
      'instance_group[1].profile',
      'instance_group[1].passive',
      'instance_group[1].host_policy',
    ]);
    for (const f of ignoredFields(parsePbtxt(text, 'config.pbtxt'))) expect(f.instead.length).toBeGreaterThan(20);
  });
});
