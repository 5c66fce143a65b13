import { describe, expect, it } from 'vitest';
import { percentile, summarizeLatencies, throughput } from '../../../src/client/latency-stats.js';

describe('percentile (nearest rank)', () => {
  const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  it('picks the sample at rank ceil(p/100 * n)', () => {
    expect(percentile(ten, 50)).toBe(5);
    expect(percentile(ten, 90)).toBe(9);
    expect(percentile(ten, 95)).toBe(10);
    expect(percentile(ten, 99)).toBe(10);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([50, 90, 95, 99].map((p) => percentile(hundred, p))).toEqual([50, 90, 95, 99]);
  });
  it('handles one and zero samples', () => {
    expect(percentile([42], 1)).toBe(42);
    expect(percentile([42], 99)).toBe(42);
    expect(percentile([], 50)).toBe(0);
  });
});

describe('summarizeLatencies', () => {
  it('rounds to whole microseconds and sorts its own copy', () => {
    const samples = [300, 100, 200, 400];
    // mean 250; deviations ±150, ±50 → variance (22500+2500)*2/4 = 12500 → std 111.8
    expect(summarizeLatencies(samples)).toEqual({ count: 4, avg: 250, std: 112, min: 100, max: 400, p50: 200, p90: 400, p95: 400, p99: 400 });
    expect(samples).toEqual([300, 100, 200, 400]);
  });
});

describe('throughput', () => {
  it('counts batch items per second', () => {
    expect(throughput(20, 4, 500)).toBe(160);
    expect(throughput(0, 1, 0)).toBe(0);
  });
});
