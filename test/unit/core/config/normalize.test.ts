import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../../src/core/config/model-config.js';
import { normalizeConfig } from '../../../../src/core/config/normalize.js';
import { parsePbtxt } from '../../../../src/core/config/pbtxt-parse.js';
import { SEED_CONFIG_PBTXT } from '../../../fixtures/model-config.js';

const cpu = { modelName: 'folder', gpuAvailable: false };
const gpu = { modelName: 'folder', gpuAvailable: true };

function isDeepFrozen(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return true;
  return Object.isFrozen(v) && Object.values(v).every(isDeepFrozen);
}

describe('normalizeConfig', () => {
  it("fills Triton's defaults into an empty config", () => {
    expect(normalizeConfig({}, cpu)).toEqual({
      name: 'folder',
      version_policy: { latest: { num_versions: 1 } },
      max_batch_size: 0,
      input: [],
      output: [],
      instance_group: [{ name: 'folder', kind: 'KIND_CPU', count: 1, gpus: [], passive: false }],
      parameters: {},
    });
    expect(normalizeConfig({}, gpu).instance_group).toEqual([{ name: 'folder', kind: 'KIND_GPU', count: 1, gpus: [], passive: false }]);
  });

  it('keeps what the config sets', () => {
    const c = normalizeConfig(
      { name: 'own', max_batch_size: 4, version_policy: { all: {} }, parameters: { a: { string_value: 'b' } } },
      cpu,
    );
    expect(c).toMatchObject({ name: 'own', max_batch_size: 4, version_policy: { all: {} }, parameters: { a: { string_value: 'b' } } });
  });

  it('names groups <model>_<index>, resolves KIND_AUTO and defaults count', () => {
    const groups = normalizeConfig(
      { instance_group: [{ kind: 'KIND_AUTO' }, { name: 'mine', count: 3, kind: 'KIND_CPU' }, { count: 0 }, { kind: 'KIND_MODEL' }] },
      { modelName: 'm', gpuAvailable: false },
    ).instance_group;
    expect(groups?.map((g) => [g.name, g.kind, g.count])).toEqual([
      ['m_0', 'KIND_CPU', 1],
      ['mine', 'KIND_CPU', 3],
      ['m_2', 'KIND_CPU', 1],
      ['m_3', 'KIND_MODEL', 1],
    ]);
    expect(normalizeConfig({ instance_group: [{}] }, { modelName: 'm', gpuAvailable: true }).instance_group?.[0].kind).toBe('KIND_GPU');
  });

  it('leaves a KIND_GPU group as it is without a GPU', () => {
    const c = normalizeConfig(parsePbtxt(SEED_CONFIG_PBTXT, 'config.pbtxt'), { modelName: 'resnet50_oneflow', gpuAvailable: false });
    expect(c.instance_group).toEqual([{ name: 'resnet50_oneflow_0', kind: 'KIND_GPU', count: 1, gpus: [0], passive: false }]);
  });

  it('fills per-tensor and dynamic batching defaults', () => {
    const c = normalizeConfig({ input: [{ name: 'I', format: 'FORMAT_NCHW' }], output: [{ name: 'O' }], dynamic_batching: {} }, cpu);
    expect(c.input).toEqual([{ name: 'I', format: 'FORMAT_NCHW', is_shape_tensor: false, allow_ragged_batch: false, optional: false }]);
    expect(c.output).toEqual([{ name: 'O', is_shape_tensor: false }]);
    expect(c.dynamic_batching).toEqual({
      preferred_batch_size: [],
      max_queue_delay_microseconds: 0,
      preserve_ordering: false,
      priority_levels: 0,
      default_priority_level: 0,
    });
  });

  it('does not touch its input and freezes the result deeply', () => {
    const input: ModelConfig = { instance_group: [{ kind: 'KIND_AUTO' }], input: [{ dims: [3] }] };
    const snapshot = structuredClone(input);
    const c = normalizeConfig(input, cpu);
    expect(input).toEqual(snapshot);
    expect(Object.isFrozen(input)).toBe(false);
    expect(isDeepFrozen(c)).toBe(true);
    expect(() => {
      (c.input![0].dims as number[]).push(1);
    }).toThrow(TypeError);
  });
});
