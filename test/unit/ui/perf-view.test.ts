import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type { PerfEvent, PerfLevel, PerfSettings } from '../../../src/commands/perf.js';
import { initialPerfViewState, PerfView, progressBar, reducePerfView } from '../../../src/ui/perf-view.js';

const settings: PerfSettings = {
  url: 'http://localhost:8000',
  model: 'color_classifier',
  protocol: 'http',
  batchSize: 1,
  measurement: { mode: 'time', intervalMs: 1000 },
  stabilization: { mode: 'time_windows', stabilityPercentage: 10, maxTrials: 10 },
  concurrency: { start: 1, end: 4, step: 1 },
};
const latency = { count: 30, avg: 900, std: 50, min: 700, max: 1500, p50: 880, p90: 1000, p95: 1100, p99: 1400 };
const level = (concurrency: number, stable = true): PerfLevel => ({
  concurrency,
  requestCount: 30,
  elapsedMs: 3000,
  throughput: 1111.111 * concurrency,
  latencyUs: latency,
  trials: stable ? 3 : 10,
  stable,
});

function stateAfter(events: PerfEvent[]) {
  return events.reduce(reducePerfView, initialPerfViewState);
}

describe('perf live view (ink)', () => {
  it('shows the settings before any level finishes', () => {
    const { lastFrame, unmount } = render(createElement(PerfView, { state: stateAfter([{ type: 'start', settings }]), now: 0 }));
    expect(lastFrame()).toContain('ofserve perf');
    expect(lastFrame()).toContain('color_classifier at http://localhost:8000 (HTTP) · batch 1 · concurrency 1:4:1 · 1000 ms windows');
    unmount();
  });

  it('shows finished levels as a table and a live line with window progress and the last window', () => {
    const state = stateAfter([
      { type: 'start', settings },
      { type: 'level', level: level(1) },
      { type: 'level', level: level(2, false) },
      { type: 'window-start', concurrency: 3, trial: 1, maxTrials: 10, at: 10_000 },
      { type: 'window', concurrency: 3, trial: 1, maxTrials: 10, window: { requestCount: 40, elapsedMs: 1000, throughput: 3210.5, latencyUs: 930 } },
      { type: 'window-start', concurrency: 3, trial: 2, maxTrials: 10, at: 11_000 },
    ]);
    const { lastFrame, unmount } = render(createElement(PerfView, { state, now: 11_500 }));
    const frame = lastFrame() ?? '';
    const lines = frame.split('\n');
    expect(lines.find((l) => l.includes('Concurrency'))).toMatch(/Concurrency +infer\/sec +p50 usec +p90 usec +p99 usec +avg usec +windows +stable/);
    expect(lines.find((l) => /^ +1 +1111\.11 /.test(l))).toMatch(/880 +1000 +1400 +900 +3 +yes$/);
    expect(lines.find((l) => /^ +2 +2222\.22 /.test(l))).toMatch(/10 +NO$/);
    expect(frame).toContain(`▶ concurrency 3 · window 2/10 ${progressBar(0.5)} 50% · last window 3210.50 infer/sec, avg 930 usec`);
    unmount();
  });

  it('drops the live line once the level ends', () => {
    const state = stateAfter([
      { type: 'start', settings },
      { type: 'window-start', concurrency: 1, trial: 1, maxTrials: 10, at: 0 },
      { type: 'level', level: level(1) },
    ]);
    expect(state.current).toBeUndefined();
    expect(state.levels).toHaveLength(1);
  });

  it('draws a bounded progress bar', () => {
    expect(progressBar(0, 4)).toBe('░░░░');
    expect(progressBar(0.5, 4)).toBe('██░░');
    expect(progressBar(7, 4)).toBe('████');
  });
});
