import { dtypeFromWire } from '../core/tensor/dtype.js';
import { serializeBytesElements } from '../core/tensor/bytes.js';

/** A small deterministic PRNG (mulberry32): same seed, same input data, comparable perf runs. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** IEEE half bits of x in [0, 1), truncating; values below half's normal range become 0. */
function halfBits(x: number): number {
  if (x < 2 ** -14) return 0;
  const exp = Math.floor(Math.log2(x));
  const frac = Math.floor((x / 2 ** exp - 1) * 1024);
  return ((exp + 15) << 10) | frac;
}

/**
 * `count` random elements of `datatype` as wire bytes, like perf_analyzer's random input data: floats
 * uniform in [0, 1), integers in [0, 100), BOOL 0/1, BYTES short ASCII strings.
 */
export function randomTensorData(datatype: string, count: number, random: () => number): Uint8Array {
  if (datatype === 'BYTES') {
    const strings = Array.from({ length: count }, () =>
      Array.from({ length: 8 }, () => String.fromCharCode(97 + Math.floor(random() * 26))).join(''),
    );
    return serializeBytesElements(strings);
  }
  const info = dtypeFromWire(datatype);
  if (!info?.array) throw new Error(`cannot generate random ${datatype} data`);
  const arr = new info.array(count);
  for (let i = 0; i < count; i++) {
    const u = random();
    switch (datatype) {
      case 'FP32':
      case 'FP64':
        (arr as Float64Array)[i] = u;
        break;
      case 'FP16':
        (arr as Uint16Array)[i] = halfBits(u);
        break;
      case 'BF16':
        (arr as Uint16Array)[i] = new Uint32Array(Float32Array.of(u).buffer)[0] >>> 16;
        break;
      case 'BOOL':
        (arr as Uint8Array)[i] = u < 0.5 ? 0 : 1;
        break;
      case 'INT64':
      case 'UINT64':
        (arr as BigInt64Array)[i] = BigInt(Math.floor(u * 100));
        break;
      default:
        (arr as Int32Array)[i] = Math.floor(u * 100);
    }
  }
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
}
