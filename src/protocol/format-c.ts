/**
 * C's printf("%f") of a double, exactly: the binary value rounded to 6 decimals with ties to even
 * (glibc's default rounding mode). std::to_string(float|double) is defined as this, and Triton's
 * classification strings use it; JavaScript's toFixed rounds ties away from zero and is not exact for
 * large values, so it cannot be used.
 */

const view = new DataView(new ArrayBuffer(8));
const SCALE = 1_000_000n;

export function formatCFloat(value: number): string {
  view.setFloat64(0, value);
  const negative = (view.getUint8(0) & 0x80) !== 0;
  const sign = negative ? '-' : '';
  if (Number.isNaN(value)) return `${sign}nan`;
  if (!Number.isFinite(value)) return `${sign}inf`;

  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exponent: number;
  if (biased === 0) {
    exponent = -1074; // subnormal
  } else {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  // |value| = mantissa * 2^exponent; scaled = round(|value| * 10^6), ties to even.
  let scaled: bigint;
  if (exponent >= 0) {
    scaled = (mantissa << BigInt(exponent)) * SCALE;
  } else {
    const num = mantissa * SCALE;
    const den = 1n << BigInt(-exponent);
    scaled = num / den;
    const twice = (num % den) * 2n;
    if (twice > den || (twice === den && (scaled & 1n) === 1n)) scaled += 1n;
  }
  const digits = scaled.toString().padStart(7, '0');
  return `${sign}${digits.slice(0, -6)}.${digits.slice(-6)}`;
}
