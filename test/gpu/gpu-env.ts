/**
 * What the GPU tests share: whether to run at all (OFSERVE_GPU=1), the addon they load (loader.ts's
 * candidates, so OFSERVE_NATIVE_ADDON works here too), timing, and where to write a timing report.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { NativeBinding, NativeSessionHandle } from '../../src/runtime/native/binding.js';
import { addonCandidates } from '../../src/runtime/native/loader.js';

export const gpuEnabled = process.env.OFSERVE_GPU === '1';
export const gpuSkipNote = gpuEnabled ? '' : ' (skipped: set OFSERVE_GPU=1 on a machine with an NVIDIA GPU)';

export function loadAddon(): NativeBinding {
  const path = addonCandidates().find((p) => existsSync(p));
  if (!path) throw new Error(`no built addon among ${addonCandidates().join(', ')}: run scripts/build-native.sh first`);
  return createRequire(import.meta.url)(path) as NativeBinding;
}

export interface Timing {
  readonly what: string;
  readonly batch: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly imagesPerSecond: number;
}

/** Median wall time of `iterations` awaited runs after `warmup` runs (H2D, steps, D2H and N-API included). */
export async function timeRuns(
  addon: NativeBinding,
  session: NativeSessionHandle,
  input: Float32Array,
  batch: number,
  what: string,
  warmup = 3,
  iterations = 20,
): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await addon.run(session, input, batch);
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await addon.run(session, input, batch);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const medianMs = times[Math.floor(times.length / 2)]!;
  const timing = { what, batch, medianMs, minMs: times[0]!, imagesPerSecond: (batch * 1000) / medianMs };
  report(timing);
  return timing;
}

/** One JSON line per record to OFSERVE_GPU_REPORT (the device script points it into $OUT), and stdout. */
export function report(record: object): void {
  const line = JSON.stringify(record);
  console.log(`[gpu] ${line}`);
  const file = process.env.OFSERVE_GPU_REPORT;
  if (file) appendFileSync(file, `${line}\n`);
}
