import { describe, expect, it } from 'vitest';
import { formatCFloat } from '../../../src/protocol/format-c.js';

// Expected strings are C's printf("%f") as printed by Python's '%f' operator (same correctly rounded,
// ties-to-even algorithm as glibc), for the exact double values given.
describe('formatCFloat (C %f)', () => {
  it('prints six decimals of float32 scores as std::to_string does', () => {
    expect(formatCFloat(Math.fround(12.219206))).toBe('12.219206');
    expect(formatCFloat(Math.fround(11.87))).toBe('11.870000');
    expect(formatCFloat(Math.fround(0.917522))).toBe('0.917522');
    expect(formatCFloat(Math.fround(43.653156))).toBe('43.653156');
  });

  it('rounds exact ties to even, unlike toFixed', () => {
    expect(formatCFloat(0.0078125)).toBe('0.007812');
    expect((0.0078125).toFixed(6)).toBe('0.007813');
    expect(formatCFloat(0.0234375)).toBe('0.023438');
    expect(formatCFloat(-0.0078125)).toBe('-0.007812');
  });

  it('rounds non-ties by the exact binary value', () => {
    expect(formatCFloat(0.9999995)).toBe('1.000000');
    expect(formatCFloat(1.0000005)).toBe('1.000001');
    expect(formatCFloat(2.5e-7)).toBe('0.000000');
  });

  it('keeps the sign of negative numbers, negative zero and tiny negatives', () => {
    expect(formatCFloat(-1.25)).toBe('-1.250000');
    expect(formatCFloat(-0)).toBe('-0.000000');
    expect(formatCFloat(-1e-9)).toBe('-0.000000');
    expect(formatCFloat(0)).toBe('0.000000');
  });

  it('prints large values exactly', () => {
    expect(formatCFloat(1e20)).toBe('100000000000000000000.000000');
    expect(formatCFloat(Math.fround(1e20))).toBe('100000002004087734272.000000');
    expect(formatCFloat(123456789.125)).toBe('123456789.125000');
    expect(formatCFloat(Number.MAX_VALUE)).toHaveLength(316);
    expect(formatCFloat(5e-324)).toBe('0.000000');
  });

  it('prints nan and inf like glibc', () => {
    expect(formatCFloat(Number.NaN)).toBe('nan');
    expect(formatCFloat(Number.POSITIVE_INFINITY)).toBe('inf');
    expect(formatCFloat(Number.NEGATIVE_INFINITY)).toBe('-inf');
  });
});
