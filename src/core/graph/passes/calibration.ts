import type { ActivationRange } from './quantize-int8.js';

/**
 * Turns the activation values seen during calibration into the range each tensor is quantized over.
 * - minmax: the extremes seen (nothing clipped; one outlier widens every step).
 * - percentile: clips |x| at the 99.999th percentile of a histogram.
 * - entropy: the clipping threshold whose 128- (signed) or 256-level (non-negative) quantized histogram
 *   is closest to the original in KL divergence (TensorRT's calibrator).
 * Pure: values in, range out; the runtime feeds it.
 */

export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'entropy'];

export interface RangeCollector {
  add(values: Float32Array): void;
  range(): ActivationRange;
}

const BINS = 2048;
const PERCENTILE = 99.999;

export function rangeCollector(method: CalibrationMethod): RangeCollector {
  return method === 'minmax' ? new MinMax() : new Histogram(method);
}

class MinMax implements RangeCollector {
  protected min = Infinity;
  protected max = -Infinity;

  add(values: Float32Array): void {
    let lo = this.min, hi = this.max;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    this.min = lo;
    this.max = hi;
  }

  range(): ActivationRange {
    return this.min <= this.max ? { min: this.min, max: this.max } : { min: 0, max: 0 };
  }
}

/** A histogram of |x| over [0, edge); when a batch exceeds the edge, the counts so far are re-binned onto the wider one. */
class Histogram extends MinMax {
  #counts = new Float64Array(BINS);
  #edge = 0;

  constructor(readonly method: 'percentile' | 'entropy') {
    super();
  }

  override add(values: Float32Array): void {
    super.add(values);
    const absMax = Math.max(Math.abs(this.min), Math.abs(this.max));
    if (absMax === 0 || !Number.isFinite(absMax)) return;
    if (absMax > this.#edge) this.#grow(absMax);
    const perBin = BINS / this.#edge;
    const counts = this.#counts;
    for (let i = 0; i < values.length; i++) counts[Math.min(BINS - 1, Math.floor(Math.abs(values[i] as number) * perBin))]! += 1;
  }

  #grow(edge: number): void {
    const old = this.#counts, oldEdge = this.#edge;
    this.#counts = new Float64Array(BINS);
    this.#edge = edge;
    if (oldEdge === 0) return;
    for (let b = 0; b < BINS; b++) {
      if (old[b] === 0) continue;
      const centre = ((b + 0.5) * oldEdge) / BINS;
      this.#counts[Math.min(BINS - 1, Math.floor((centre / edge) * BINS))]! += old[b] as number;
    }
  }

  override range(): ActivationRange {
    const full = super.range();
    if (this.#edge === 0) return full;
    const threshold = this.method === 'percentile' ? percentileThreshold(this.#counts, this.#edge) : entropyThreshold(this.#counts, this.#edge, full.min >= 0 ? 256 : 128);
    return { min: Math.max(full.min, -threshold), max: Math.min(full.max, threshold) };
  }
}

export function percentileThreshold(counts: Float64Array, edge: number, percentile = PERCENTILE): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const target = (total * percentile) / 100;
  let seen = 0;
  for (let b = 0; b < counts.length; b++) {
    seen += counts[b] as number;
    if (seen >= target) return ((b + 1) * edge) / counts.length;
  }
  return edge;
}

export function entropyThreshold(all: Float64Array, edge: number, levels: number): number {
  // Bin 0 holds every exact zero (half of a Relu's outputs, all of the padding); quantization keeps
  // zero exact, and left in, that spike swamps the divergence and drives the threshold far too low.
  const counts = Float64Array.from(all);
  counts[0] = 0;
  const bins = counts.length;
  if (bins <= levels) return edge;
  let best = bins, bestKl = Infinity;
  for (let i = levels; i <= bins; i += 1) {
    // Reference: the first i bins, with everything beyond folded into the last (what clipping does).
    const p = Float64Array.from(counts.subarray(0, i));
    let outliers = 0;
    for (let b = i; b < bins; b++) outliers += counts[b] as number;
    p[i - 1]! += outliers;
    // Candidate: the same i bins merged into `levels` steps, each spread back over its non-empty bins.
    const q = new Float64Array(i);
    const perLevel = i / levels;
    for (let l = 0; l < levels; l++) {
      const from = Math.floor(l * perLevel), to = l === levels - 1 ? i : Math.floor((l + 1) * perLevel);
      let sum = 0, nonEmpty = 0;
      for (let b = from; b < to; b++) {
        sum += counts[b] as number;
        if ((counts[b] as number) > 0) nonEmpty++;
      }
      if (nonEmpty > 0) for (let b = from; b < to; b++) if ((counts[b] as number) > 0) q[b] = sum / nonEmpty;
    }
    const kl = klDivergence(p, q);
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return (best * edge) / bins;
}

function klDivergence(p: Float64Array, q: Float64Array): number {
  let ps = 0, qs = 0;
  for (let b = 0; b < p.length; b++) {
    ps += p[b] as number;
    qs += q[b] as number;
  }
  if (ps === 0 || qs === 0) return Infinity;
  let kl = 0;
  for (let b = 0; b < p.length; b++) {
    const pv = (p[b] as number) / ps;
    if (pv === 0) continue;
    const qv = (q[b] as number) / qs;
    // A reference bin the candidate leaves empty (the folded outliers) costs as if q had a tiny share.
    kl += pv * Math.log(pv / (qv > 0 ? qv : 1e-12));
  }
  return kl;
}
