import { attr, type Graph } from '../ir.js';
import { GraphBuilder } from './graph-builder.js';

/** Class prototypes as RGB in [0,1], in output order. */
const PROTOTYPES: readonly (readonly [string, readonly [number, number, number]])[] = [
  ['red', [1, 0, 0]],
  ['green', [0, 1, 0]],
  ['blue', [0, 0, 1]],
  ['yellow', [1, 1, 0]],
  ['cyan', [0, 1, 1]],
  ['magenta', [1, 0, 1]],
  ['white', [1, 1, 1]],
  ['black', [0, 0, 0]],
  ['gray', [0.5, 0.5, 0.5]],
  ['orange', [1, 0.5, 0]],
  ['purple', [0.5, 0, 0.5]],
];

export interface ColourClassifierOptions {
  readonly inputName?: string;
  readonly outputName?: string;
}

/**
 * A tiny classifier that is right by construction, so demos and tests get meaningful labels without
 * shipping trained weights: it averages the image to one RGB colour x and scores class k by
 * −‖x − c_k‖² + ‖x‖² = 2x·c_k − ‖c_k‖², i.e. a Gemm with W_k = 2c_k and b_k = −‖c_k‖². Dropping ‖x‖²
 * shifts every score of an image equally, so the arg-max is still the nearest prototype colour.
 *
 * Input: FP32 [-1,3,224,224], RGB in [0,1], CHW. Output: FP32 [-1,K] scores.
 */
export function buildColourClassifier(opts: ColourClassifierOptions = {}): { graph: Graph; labels: string[] } {
  const { inputName = 'INPUT_0', outputName = 'OUTPUT_0' } = opts;
  const k = PROTOTYPES.length;
  const weight = new Float32Array(k * 3);
  const bias = new Float32Array(k);
  PROTOTYPES.forEach(([, c], i) => {
    c.forEach((v, ch) => (weight[i * 3 + ch] = 2 * v));
    bias[i] = -c.reduce((s, v) => s + v * v, 0);
  });

  const g = new GraphBuilder();
  let x = g.node('GlobalAveragePool', 'mean_colour', [inputName]);
  x = g.node('Flatten', 'flatten', [x], { axis: attr.int(1) });
  g.node('Gemm', 'score', [x, g.float32('score.weight', [k, 3], weight), g.float32('score.bias', [k], bias)], { transB: attr.int(1) }, outputName);

  const graph = g.build(
    'colour_classifier',
    [{ name: inputName, dtype: 'FP32', shape: [-1, 3, 224, 224] }],
    [{ name: outputName, dtype: 'FP32', shape: [-1, k] }],
  );
  return { graph, labels: PROTOTYPES.map(([name]) => name) };
}
