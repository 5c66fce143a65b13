import { describe, expect, it } from 'vitest';
import { runClosedLoop } from '../../../src/client/load-generator.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runClosedLoop', () => {
  it('keeps exactly `concurrency` requests in flight and stops at the request count', async () => {
    let inFlight = 0;
    let peak = 0;
    let sent = 0;
    const m = await runClosedLoop(
      async () => {
        sent++;
        inFlight++;
        peak = Math.max(peak, inFlight);
        await sleep(5);
        inFlight--;
      },
      { concurrency: 3, requestCount: 10 },
    );
    expect(sent).toBe(10);
    expect(m.latenciesUs).toHaveLength(10);
    expect(peak).toBe(3);
    // timers may fire up to ~1 ms early against performance.now()
    expect(Math.min(...m.latenciesUs)).toBeGreaterThanOrEqual(3500);
  });

  it('stops starting requests after the duration', async () => {
    const m = await runClosedLoop(() => sleep(5), { concurrency: 2, durationMs: 60 });
    expect(m.latenciesUs.length).toBeGreaterThan(2);
    expect(m.latenciesUs.length).toBeLessThan(40);
    expect(m.elapsedMs).toBeGreaterThanOrEqual(60);
  });

  it('rethrows the first failure and stops the other workers', async () => {
    let sent = 0;
    const run = runClosedLoop(
      async () => {
        sent++;
        await sleep(1);
        if (sent === 3) throw new Error('boom');
      },
      { concurrency: 2, requestCount: 100 },
    );
    await expect(run).rejects.toThrow('boom');
    expect(sent).toBeLessThan(10);
  });
});
