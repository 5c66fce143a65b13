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

export interface OpenLoopWindow {
  /** Requests per second to start. */
  readonly rate: number;
  /** 'constant': evenly spaced; 'poisson': exponential gaps (perf_analyzer's --request-distribution). */
  readonly distribution: 'constant' | 'poisson';
  /** A uniform [0,1) source for the Poisson gaps (seeded, so runs repeat). */
  readonly random: () => number;
  readonly requestCount?: number;
  readonly durationMs?: number;
  /** Most requests in flight; a server slower than the rate delays the schedule instead of piling up memory. */
  readonly maxInFlight?: number;
}

export interface OpenLoopMeasurement extends LoadMeasurement {
  /** Requests that started later than scheduled because maxInFlight were outstanding. */
  readonly delayed: number;
}

const DEFAULT_MAX_IN_FLIGHT = 1024;

/**
 * Open-loop load like perf_analyzer's request-rate mode: requests start on a schedule whatever the
 * answers do, so queueing in the server shows up as latency. The first failure stops the schedule and is
 * rethrown once all in-flight requests have settled.
 */
export async function runOpenLoop(send: () => Promise<unknown>, window: OpenLoopWindow): Promise<OpenLoopMeasurement> {
  if (window.requestCount === undefined && window.durationMs === undefined) {
    throw new Error('a load window needs a request count or a duration');
  }
  if (!(window.rate > 0)) throw new Error('the request rate must be positive');
  const latenciesUs: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const maxInFlight = window.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  let failure: { error: unknown } | undefined;
  let delayed = 0;
  let issued = 0;
  const start = performance.now();
  const deadline = window.durationMs === undefined ? Infinity : start + window.durationMs;
  const gapMs = () => (window.distribution === 'poisson' ? (-Math.log(1 - window.random()) / window.rate) * 1000 : 1000 / window.rate);

  let due = start;
  for (;;) {
    if (failure) break;
    if (window.requestCount !== undefined && issued >= window.requestCount) break;
    if (due >= deadline) break;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (inFlight.size >= maxInFlight) {
      delayed++;
      await Promise.race(inFlight);
    }
    issued++;
    const t0 = performance.now();
    const p = send().then(
      () => void latenciesUs.push((performance.now() - t0) * 1000),
      (error: unknown) => void (failure ??= { error }),
    );
    const tracked: Promise<void> = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    due += gapMs();
  }
  await Promise.all(inFlight);
  const elapsedMs = performance.now() - start;
  if (failure) throw failure.error;
  return { latenciesUs, elapsedMs, delayed };
}
