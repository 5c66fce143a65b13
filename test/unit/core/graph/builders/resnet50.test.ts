import { describe, expect, it } from 'vitest';
import { buildResNet50 } from '../../../../../src/core/graph/builders/resnet50.js';
import { seededParameter } from '../../../../../src/core/graph/builders/seeded.js';
import type { Node } from '../../../../../src/core/graph/ir.js';

/**
 * torchvision's resnet50().state_dict() keys minus the 53 `num_batches_tracked` counters, listed from
 * torchvision's module definition (Bottleneck: conv1/bn1, conv2/bn2, conv3/bn3, downsample.0/.1).
 */
function torchvisionKeys(): string[] {
  const bn = (p: string) => ['weight', 'bias', 'running_mean', 'running_var'].map((s) => `${p}.${s}`);
  const keys = ['conv1.weight', ...bn('bn1')];
  [3, 4, 6, 3].forEach((blocks, s) => {
    for (let b = 0; b < blocks; b++) {
      const p = `layer${s + 1}.${b}`;
      keys.push(`${p}.conv1.weight`, ...bn(`${p}.bn1`), `${p}.conv2.weight`, ...bn(`${p}.bn2`), `${p}.conv3.weight`, ...bn(`${p}.bn3`));
      if (b === 0) keys.push(`${p}.downsample.0.weight`, ...bn(`${p}.downsample.1`));
    }
  });
  return [...keys, 'fc.weight', 'fc.bias'];
}

describe('buildResNet50', () => {
  const g = buildResNet50({ seed: 1 });
  const inits = new Map(g.initializers.map((i) => [i.name, i]));
  const nodeByName = new Map(g.nodes.map((n) => [n.name, n]));
  const ints = (n: Node | undefined, a: string) => (n?.attrs[a]?.kind === 'ints' ? n.attrs[a].value : undefined);

  it('has exactly torchvision state_dict names and 25,557,032 trainable parameters', () => {
    expect([...inits.keys()].sort()).toEqual(torchvisionKeys().sort());
    const trainable = g.initializers
      .filter((i) => !i.name.endsWith('running_mean') && !i.name.endsWith('running_var'))
      .reduce((n, i) => n + i.shape.reduce((a, b) => a * b, 1), 0);
    expect(trainable).toBe(25_557_032); // sum(p.numel() for p in torchvision.models.resnet50().parameters())
  });

  it('has torchvision shapes at the stage boundaries', () => {
    expect(inits.get('conv1.weight')?.shape).toEqual([64, 3, 7, 7]);
    expect(inits.get('layer1.0.conv1.weight')?.shape).toEqual([64, 64, 1, 1]);
    expect(inits.get('layer1.0.downsample.0.weight')?.shape).toEqual([256, 64, 1, 1]);
    expect(inits.get('layer1.1.conv1.weight')?.shape).toEqual([64, 256, 1, 1]);
    expect(inits.get('layer2.0.conv2.weight')?.shape).toEqual([128, 128, 3, 3]);
    expect(inits.get('layer4.2.conv3.weight')?.shape).toEqual([2048, 512, 1, 1]);
    expect(inits.get('layer4.0.downsample.1.running_var')?.shape).toEqual([2048]);
    expect(inits.get('fc.weight')?.shape).toEqual([1000, 2048]);
    expect(inits.get('fc.bias')?.shape).toEqual([1000]);
  });

  it('puts the stride on the 3x3 conv (v1.5) and on the projection', () => {
    expect(ints(nodeByName.get('conv1'), 'strides')).toEqual([2, 2]);
    expect(ints(nodeByName.get('conv1'), 'pads')).toEqual([3, 3, 3, 3]);
    expect(ints(nodeByName.get('maxpool'), 'strides')).toEqual([2, 2]);
    expect(ints(nodeByName.get('maxpool'), 'pads')).toEqual([1, 1, 1, 1]);
    for (const [layer, stride] of [[1, 1], [2, 2], [3, 2], [4, 2]] as const) {
      expect(ints(nodeByName.get(`layer${layer}.0.conv1`), 'strides')).toEqual([1, 1]);
      expect(ints(nodeByName.get(`layer${layer}.0.conv2`), 'strides')).toEqual([stride, stride]);
      expect(ints(nodeByName.get(`layer${layer}.0.conv2`), 'pads')).toEqual([1, 1, 1, 1]);
      expect(ints(nodeByName.get(`layer${layer}.0.downsample.0`), 'strides')).toEqual([stride, stride]);
      expect(ints(nodeByName.get(`layer${layer}.1.conv2`), 'strides')).toEqual([1, 1]);
    }
  });

  it('uses bias-free Conv, BatchNormalization(eps 1e-5) and Gemm(transB) for fc', () => {
    const convs = g.nodes.filter((n) => n.op === 'Conv');
    expect(convs).toHaveLength(53);
    expect(convs.every((n) => n.inputs.length === 2)).toBe(true);
    const bns = g.nodes.filter((n) => n.op === 'BatchNormalization');
    expect(bns).toHaveLength(53);
    expect(bns.every((n) => n.attrs.epsilon?.kind === 'float' && n.attrs.epsilon.value === 1e-5)).toBe(true);
    expect(g.nodes.filter((n) => n.op === 'Add')).toHaveLength(16);
    const fc = g.nodes[g.nodes.length - 1]!;
    expect(fc).toMatchObject({ op: 'Gemm', inputs: ['flatten', 'fc.weight', 'fc.bias'], outputs: ['OUTPUT_0'] });
    expect(fc.attrs.transB).toEqual({ kind: 'int', value: 1 });
  });

  it('is topologically sorted: every node input is produced earlier or is an input/initializer', () => {
    const known = new Set([...g.inputs.map((i) => i.name), ...inits.keys()]);
    for (const n of g.nodes) {
      for (const i of n.inputs) expect(known.has(i), `${n.name} reads ${i}`).toBe(true);
      n.outputs.forEach((o) => known.add(o));
    }
    expect(known.has('OUTPUT_0')).toBe(true);
  });

  it('takes every value from seededParameter(seed, name, shape)', () => {
    for (const name of ['conv1.weight', 'layer3.2.bn2.running_var', 'layer2.0.downsample.1.weight', 'fc.bias']) {
      const init = inits.get(name)!;
      expect(new Float32Array(init.data.slice().buffer)).toEqual(seededParameter(1, name, init.shape));
    }
    const other = buildResNet50({ seed: 2, numClasses: 10 });
    expect(other.initializers.find((i) => i.name === 'fc.weight')?.shape).toEqual([10, 2048]);
    expect(Buffer.compare(other.initializers[0]!.data, g.initializers[0]!.data)).not.toBe(0);
  });

  it('names inputs and outputs and fixes the batch on request', () => {
    expect(g.inputs).toEqual([{ name: 'INPUT_0', dtype: 'FP32', shape: [-1, 3, 224, 224] }]);
    expect(g.outputs).toEqual([{ name: 'OUTPUT_0', dtype: 'FP32', shape: [-1, 1000] }]);
    const fixed = buildResNet50({ seed: 1, batch: 4, numClasses: 5, inputName: 'in', outputName: 'out' });
    expect(fixed.inputs).toEqual([{ name: 'in', dtype: 'FP32', shape: [4, 3, 224, 224] }]);
    expect(fixed.outputs).toEqual([{ name: 'out', dtype: 'FP32', shape: [4, 5] }]);
    expect(fixed.nodes[0]!.inputs[0]).toBe('in');
  });
});
