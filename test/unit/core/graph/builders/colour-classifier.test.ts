import { describe, expect, it } from 'vitest';
import { buildColourClassifier } from '../../../../../src/core/graph/builders/colour-classifier.js';
import { evaluate } from '../../../../fixtures/reference-eval.js';

const HW = 224 * 224;

/** A CHW image where `fraction` of the pixels (the first ones) are `rgb` and the rest are `rest`. */
function image(rgb: readonly number[], fraction = 1, rest: readonly number[] = [0, 0, 0]): Float32Array {
  const data = new Float32Array(3 * HW);
  const cut = Math.round(fraction * HW);
  for (let c = 0; c < 3; c++) for (let p = 0; p < HW; p++) data[c * HW + p] = (p < cut ? rgb[c] : rest[c]) as number;
  return data;
}

function classify(images: Float32Array[]): string[] {
  const { graph, labels } = buildColourClassifier();
  const data = new Float32Array(images.length * 3 * HW);
  images.forEach((im, i) => data.set(im, i * 3 * HW));
  const out = evaluate(graph, { INPUT_0: { shape: [images.length, 3, 224, 224], data } }).OUTPUT_0!;
  expect(out.shape).toEqual([images.length, labels.length]);
  return images.map((_, i) => {
    const row = out.data.subarray(i * labels.length, (i + 1) * labels.length);
    return labels[row.indexOf(Math.max(...row))]!;
  });
}

describe('buildColourClassifier', () => {
  it('declares INPUT_0 [-1,3,224,224] and OUTPUT_0 [-1,K] with one label per class', () => {
    const { graph, labels } = buildColourClassifier();
    expect(graph.inputs).toEqual([{ name: 'INPUT_0', dtype: 'FP32', shape: [-1, 3, 224, 224] }]);
    expect(graph.outputs).toEqual([{ name: 'OUTPUT_0', dtype: 'FP32', shape: [-1, labels.length] }]);
    expect(labels).toContain('red');
    expect(new Set(labels).size).toBe(labels.length);
    const renamed = buildColourClassifier({ inputName: 'image', outputName: 'scores' }).graph;
    expect(renamed.inputs[0]!.name).toBe('image');
    expect(renamed.outputs[0]!.name).toBe('scores');
  });

  it('scores a colour as its negative squared distance to each prototype, up to a per-image constant', () => {
    const { graph, labels } = buildColourClassifier();
    const x = [0.2, 0.7, 0.4];
    const out = evaluate(graph, { INPUT_0: { shape: [1, 3, 224, 224], data: image(x) } }).OUTPUT_0!.data;
    const norm = x.reduce((s, v) => s + v * v, 0);
    // red (1,0,0): -‖x - c‖² + ‖x‖² = 2·0.2 - 1
    expect(out[labels.indexOf('red')]).toBeCloseTo(2 * 0.2 - 1, 5);
    // black is the origin: score 0, i.e. distance² = ‖x‖²
    expect(out[labels.indexOf('black')]).toBeCloseTo(0, 6);
    expect(-(out[labels.indexOf('white')] as number) + norm).toBeCloseTo((1 - 0.2) ** 2 + (1 - 0.7) ** 2 + (1 - 0.4) ** 2, 5);
  });

  it('names solid primaries and a mostly-red photo-like image', () => {
    expect(classify([image([1, 0, 0]), image([0, 1, 0]), image([0, 0, 1]), image([1, 1, 1]), image([0, 0, 0])])).toEqual([
      'red',
      'green',
      'blue',
      'white',
      'black',
    ]);
    // 85 % dark-ish red, 15 % white highlights: the mean is (0.9, 0.22, 0.2), nearest to red.
    expect(classify([image([0.88, 0.08, 0.06], 0.85, [1, 1, 1])])).toEqual(['red']);
    expect(classify([image([0.95, 0.55, 0.05]), image([0.45, 0.45, 0.5])])).toEqual(['orange', 'gray']);
  });
});
