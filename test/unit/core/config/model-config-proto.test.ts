import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MODEL_CONFIG_PROTO, PROTO_DIR } from '../../../../src/core/config/model-config-proto.js';
import { ModelConfigType, modelConfigRoot } from '../../../../src/core/config/proto.js';
import type protobuf from 'protobufjs';

const repoRoot = new URL('../../../../', import.meta.url);

function fieldIds(typeName: string): Record<string, number> {
  const t = modelConfigRoot.lookupType(typeName);
  return Object.fromEntries(t.fieldsArray.map((f) => [f.name, f.id]));
}

function enumValues(name: string): Record<string, number> {
  return (modelConfigRoot.lookup(name) as protobuf.Enum).values;
}

describe('model_config.proto', () => {
  it('is read from the proto/ folder the package ships', () => {
    expect(PROTO_DIR).toBe(new URL('proto/', repoRoot).pathname);
    expect(MODEL_CONFIG_PROTO).toBe(readFileSync(new URL('proto/model_config.proto', repoRoot), 'utf8'));
    const pkg = JSON.parse(readFileSync(new URL('package.json', repoRoot), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('proto');
  });

  // Numbers from triton-protocol.md §6: a config's binary and JSON forms must match Triton's.
  it('uses Triton field numbers', () => {
    expect(fieldIds('inference.ModelConfig')).toMatchObject({
      name: 1, platform: 2, version_policy: 3, max_batch_size: 4, input: 5, output: 6, instance_group: 7,
      default_model_filename: 8, dynamic_batching: 11, parameters: 14, model_warmup: 16, backend: 17,
      model_transaction_policy: 19, response_cache: 24,
    });
    expect(fieldIds('inference.ModelInput')).toEqual({
      name: 1, data_type: 2, format: 3, dims: 4, reshape: 5, is_shape_tensor: 6, allow_ragged_batch: 7, optional: 8,
      is_non_linear_format_io: 9,
    });
    expect(fieldIds('inference.ModelOutput')).toMatchObject({ name: 1, data_type: 2, dims: 3, label_filename: 4, reshape: 5, is_shape_tensor: 6 });
    expect(fieldIds('inference.ModelInstanceGroup')).toMatchObject({ name: 1, count: 2, gpus: 3, kind: 4, profile: 5, passive: 7 });
    expect(fieldIds('inference.ModelVersionPolicy')).toEqual({ latest: 1, all: 2, specific: 3 });
    expect(fieldIds('inference.ModelDynamicBatching')).toMatchObject({
      preferred_batch_size: 1, max_queue_delay_microseconds: 2, preserve_ordering: 3, priority_levels: 4, default_priority_level: 5,
    });
    expect(fieldIds('inference.ModelWarmup')).toEqual({ name: 1, batch_size: 2, inputs: 3, count: 4 });
    expect(fieldIds('inference.ModelWarmup.Input')).toEqual({ data_type: 1, dims: 2, zero_data: 3, random_data: 4, input_data_file: 5 });
  });

  it('uses Triton enum values', () => {
    expect(enumValues('inference.DataType')).toMatchObject({ TYPE_INVALID: 0, TYPE_BOOL: 1, TYPE_INT64: 9, TYPE_FP32: 11, TYPE_STRING: 13, TYPE_BF16: 14 });
    expect(enumValues('inference.ModelInput.Format')).toEqual({ FORMAT_NONE: 0, FORMAT_NHWC: 1, FORMAT_NCHW: 2 });
    expect(enumValues('inference.ModelInstanceGroup.Kind')).toEqual({ KIND_AUTO: 0, KIND_GPU: 1, KIND_CPU: 2, KIND_MODEL: 3 });
  });

  it('encodes max_batch_size as field 4 varint', () => {
    // Tag byte (4 << 3 | 0) = 0x20, then the value.
    const bytes = ModelConfigType.encode(ModelConfigType.fromObject({ max_batch_size: 8 })).finish();
    expect([...bytes]).toEqual([0x20, 8]);
  });
});
