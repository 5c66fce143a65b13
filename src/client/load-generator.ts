import { performance } from 'node:perf_hooks';
import { ofsError } from '../errors.js';

export interface LoadWindow {
  readonly concurrency: number;
  /** Stop after exactly this many requests (perf_analyzer's --request-count)… */
  readonly requestCount?: number;
  /** …or start no new request after this many milliseconds (--measurement-interval). */
  readonly durationMs?: number;
}

export interface LoadMeasurement {
  /** One latency per completed request, microseconds, in completion order. */
  readonly latenciesUs: number[];
  readonly elapsedMs: number;
}

/**
 * Closed-loop load like perf_analyzer's concurrency mode: `concurrency` workers each send a request,
 * wait for its answer and send the next, until the window ends. The first failure stops every worker
 * and is rethrown once all in-flight requests have settled.
 */
export async function runClosedLoop(send: () => Promise<unknown>, window: LoadWindow): Promise<LoadMeasurement> {
  if (window.requestCount === undefined && window.durationMs === undefined) {
    throw ofsError('OFS_BAD_ARGUMENT', 'a load window needs a request count or a duration');
  }
  const latenciesUs: number[] = [];
  let issued = 0;
  let failure: { error: unknown } | undefined;
  const start = performance.now();
  const deadline = window.durationMs === undefined ? Infinity : start + window.durationMs;

  const mayStart = () => {
    if (failure) return false;
    if (window.requestCount !== undefined) return issued < window.requestCount;
    return performance.now() < deadline;
  };

  const worker = async () => {
    while (mayStart()) {
      issued++;
      const t0 = performance.now();
      try {
        await send();
      } catch (error) {
        failure ??= { error };
        return;
      }
      latenciesUs.push((performance.now() - t0) * 1000);
    }
  };

  await Promise.all(Array.from({ length: window.concurrency }, worker));
  const elapsedMs = performance.now() - start;
  if (failure) throw failure.error;
  return { latenciesUs, elapsedMs };
}
