/**
 * Deterministic weights from (seed, tensor name): two independent builders (the ONNX ResNet-50 builder
 * and the OneFlow folder writer) get bit-identical parameters without sharing any state, which is what
 * lets tests prove the two graphs compute the same function.
 */

/** FNV-1a over the name, mixed with the seed: a stable 32-bit stream id per tensor. */
function streamSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for weights. */
function mulberry32(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [lo, hi). */
export function seededUniform(seed: number, name: string, count: number, lo: number, hi: number): Float32Array {
  const rand = mulberry32(streamSeed(seed, name));
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = lo + (hi - lo) * rand();
  return out;
}

/**
 * A parameter of a torchvision/flowvision-style CNN, initialised by the role its name gives it, so that
 * activations keep a sane scale through 50 layers (He-uniform convs, BN stats near identity):
 * `*.weight` of conv/fc (rank ≥ 2) → ±sqrt(6/fan_in); `bn*.weight`/`downsample.1.weight` (rank 1) → [0.5,1);
 * `*.bias` → ±0.05; `*.running_mean` → ±0.1; `*.running_var` → [0.5, 1.5).
 */
export function seededParameter(seed: number, name: string, shape: readonly number[]): Float32Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (name.endsWith('.running_mean')) return seededUniform(seed, name, count, -0.1, 0.1);
  if (name.endsWith('.running_var')) return seededUniform(seed, name, count, 0.5, 1.5);
  if (name.endsWith('.bias')) return seededUniform(seed, name, count, -0.05, 0.05);
  if (name.endsWith('.weight') && shape.length >= 2) {
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    const bound = Math.sqrt(6 / fanIn);
    return seededUniform(seed, name, count, -bound, bound);
  }
  return seededUniform(seed, name, count, 0.5, 1.0);
}
