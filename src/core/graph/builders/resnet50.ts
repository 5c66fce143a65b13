import { attr, type Graph } from '../ir.js';
import { GraphBuilder } from './graph-builder.js';
import { seededParameter } from './seeded.js';

export interface ResNet50Options {
  readonly seed: number;
  readonly numClasses?: number;
  readonly inputName?: string;
  readonly outputName?: string;
  /** Batch dimension of input and output; -1 (the default) makes it dynamic. */
  readonly batch?: number;
}

/** Bottleneck blocks per stage and the width of each stage's 3x3 conv (torchvision's `planes`). */
const STAGES = [
  { blocks: 3, planes: 64, stride: 1 },
  { blocks: 4, planes: 128, stride: 2 },
  { blocks: 6, planes: 256, stride: 2 },
  { blocks: 3, planes: 512, stride: 2 },
] as const;
const EXPANSION = 4;
const BN_EPSILON = 1e-5;

/**
 * torchvision's resnet50 (v1.5: the stride sits on each first block's 3x3 conv) with seeded weights.
 * Module paths and initializer names are torchvision's state_dict keys, so another builder that walks
 * the same state_dict with `seededParameter` (the OneFlow writer) produces bit-identical weights.
 */
export function buildResNet50(opts: ResNet50Options): Graph {
  const { seed, numClasses = 1000, inputName = 'INPUT_0', outputName = 'OUTPUT_0', batch = -1 } = opts;
  const g = new GraphBuilder();
  const param = (name: string, shape: readonly number[]): string => g.float32(name, shape, seededParameter(seed, name, shape));

  const conv = (name: string, x: string, cin: number, cout: number, k: number, stride: number): string =>
    g.node('Conv', name, [x, param(`${name}.weight`, [cout, cin, k, k])], {
      kernel_shape: attr.ints([k, k]),
      strides: attr.ints([stride, stride]),
      pads: attr.ints(Array(4).fill((k - 1) >> 1)),
      dilations: attr.ints([1, 1]),
      group: attr.int(1),
    });
  const bn = (name: string, x: string, c: number): string =>
    g.node(
      'BatchNormalization',
      name,
      [x, param(`${name}.weight`, [c]), param(`${name}.bias`, [c]), param(`${name}.running_mean`, [c]), param(`${name}.running_var`, [c])],
      { epsilon: attr.float(BN_EPSILON) },
    );
  const relu = (name: string, x: string): string => g.node('Relu', name, [x]);

  let x = conv('conv1', inputName, 3, 64, 7, 2);
  x = relu('relu', bn('bn1', x, 64));
  x = g.node('MaxPool', 'maxpool', [x], {
    kernel_shape: attr.ints([3, 3]),
    strides: attr.ints([2, 2]),
    pads: attr.ints([1, 1, 1, 1]),
  });

  let inplanes = 64;
  STAGES.forEach(({ blocks, planes, stride }, s) => {
    for (let b = 0; b < blocks; b++) {
      const p = `layer${s + 1}.${b}`;
      const blockStride = b === 0 ? stride : 1;
      const width = planes * EXPANSION;
      let y = relu(`${p}.relu1`, bn(`${p}.bn1`, conv(`${p}.conv1`, x, inplanes, planes, 1, 1), planes));
      y = relu(`${p}.relu2`, bn(`${p}.bn2`, conv(`${p}.conv2`, y, planes, planes, 3, blockStride), planes));
      y = bn(`${p}.bn3`, conv(`${p}.conv3`, y, planes, width, 1, 1), width);
      // torchvision adds a projection whenever shape changes: every stage's first block, layer1 included (64 → 256).
      const identity =
        blockStride !== 1 || inplanes !== width
          ? bn(`${p}.downsample.1`, conv(`${p}.downsample.0`, x, inplanes, width, 1, blockStride), width)
          : x;
      x = relu(`${p}.relu3`, g.node('Add', `${p}.add`, [y, identity]));
      inplanes = width;
    }
  });

  x = g.node('GlobalAveragePool', 'avgpool', [x]);
  x = g.node('Flatten', 'flatten', [x], { axis: attr.int(1) });
  const fcIn = 512 * EXPANSION;
  g.node('Gemm', 'fc', [x, param('fc.weight', [numClasses, fcIn]), param('fc.bias', [numClasses])], { transB: attr.int(1) }, outputName);

  return g.build(
    'resnet50',
    [{ name: inputName, dtype: 'FP32', shape: [batch, 3, 224, 224] }],
    [{ name: outputName, dtype: 'FP32', shape: [batch, numClasses] }],
  );
}
