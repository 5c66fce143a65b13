import { isOfsError, ofsError } from '../errors.js';
import { elementCount, type WireDatatype } from '../core/tensor/dtype.js';
import { createInferenceClient, parseProtocol, type ClientProtocol, type InferenceClient } from '../client/inference-client.js';
import { maxBatchSizeOf, modelConfigOrUndefined } from '../client/model-info.js';
import type { InferInput } from '../client/infer-input.js';
import { summarizeLatencies, throughput, type LatencySummary } from '../client/latency-stats.js';
import { runClosedLoop, runOpenLoop } from '../client/load-generator.js';
import { randomTensorData, seededRandom } from '../client/seeded-random.js';
import type { ModelMetadata, ModelStatisticsJson } from '../client/v2-types.js';
import { parseInputData, readInputDataFile, requestsFromInputData, zeroed } from './perf-input-data.js';

/** perf_analyzer's flags, under their long names. */
export interface PerfOptions {
  /** -m */
  readonly model: string;
  readonly version?: string;
  /** -u, default localhost:8000 for HTTP and localhost:8001 for gRPC */
  readonly url?: string;
  /** -i: 'http' (default) or 'grpc' */
  readonly protocol?: string;
  /** -b, default 1 */
  readonly batchSize?: number;
  /** --concurrency-range start[:end[:step]], default "1" */
  readonly concurrencyRange?: string;
  /** --request-count: requests per concurrency level; overrides the measurement interval. */
  readonly requestCount?: number;
  /** --measurement-interval in ms, default 5000 */
  readonly measurementIntervalMs?: number;
  /** Seed of the random input data (default 0). */
  readonly seed?: number;
  /** --shape NAME:d1,d2,…: concrete dims (without batch) for inputs with variable dims. */
  readonly shapes?: Readonly<Record<string, readonly number[]>>;
  readonly timeoutMs?: number;
  /** --stability-percentage: the last three windows' throughput and latency within this % (default 10). */
  readonly stabilityPercentage?: number;
  /** --max-trials: most windows per level before giving up on stability (default 10). */
  readonly maxTrials?: number;
  /** --percentile: report and stabilize on this latency percentile instead of the average. */
  readonly percentile?: number;
  /** --measurement-mode: time_windows (default) or count_windows. */
  readonly measurementMode?: string;
  /** --measurement-request-count: requests per window in count_windows mode (default 50). */
  readonly measurementRequestCount?: number;
  /** --request-rate-range start[:end[:step]] (requests/s): open-loop levels instead of concurrency. */
  readonly requestRateRange?: string;
  /** --request-distribution: constant (default) or poisson. */
  readonly requestDistribution?: string;
  /** --async (true) / --sync (false, the default): how perf_analyzer's report names the calls. */
  readonly async?: boolean;
  /** --input-data: random (default), zero, or a JSON file in perf_analyzer's format. */
  readonly inputData?: string;
  /** Called as the measurement goes: the live views (terminal and plain lines) follow these. */
  readonly onEvent?: (event: PerfEvent) => void;
}

/** What a running perf reports while it measures. */
export type PerfEvent =
  | { readonly type: 'start'; readonly settings: PerfSettings }
  | { readonly type: 'window-start'; readonly concurrency: number; readonly requestRate?: number; readonly trial: number; readonly maxTrials: number; readonly at: number }
  | { readonly type: 'window'; readonly concurrency: number; readonly trial: number; readonly maxTrials: number; readonly window: PerfWindow }
  | { readonly type: 'level'; readonly level: PerfLevel };

/** One measurement window of a level. */
export interface PerfWindow {
  readonly requestCount: number;
  readonly elapsedMs: number;
  readonly throughput: number;
  /** The latency stabilized on: the --percentile, or the average. */
  readonly latencyUs: number;
}

/** Everything about a run that is known before the first request. */
export type PerfSettings = Omit<PerfResult, 'levels'>;

export interface ConcurrencyRange {
  readonly start: number;
  readonly end: number;
  readonly step: number;
}

/** Server-side averages per successful request over one level, from the statistics extension. */
export interface ServerSideStats {
  readonly inferenceCount: number;
  readonly executionCount: number;
  readonly successCount: number;
  readonly avgRequestUs: number;
  readonly avgOverheadUs: number;
  readonly avgQueueUs: number;
  readonly avgComputeInputUs: number;
  readonly avgComputeInferUs: number;
  readonly avgComputeOutputUs: number;
}

export interface PerfLevel {
  /** Closed-loop clients; 0 for a request-rate level. */
  readonly concurrency: number;
  /** Requests per second started, for a --request-rate-range level. */
  readonly requestRate?: number;
  /** Requests completed in the window. */
  readonly requestCount: number;
  readonly elapsedMs: number;
  /** Inferences per second (requests × batch size / s). */
  readonly throughput: number;
  readonly latencyUs: LatencySummary;
  readonly server?: ServerSideStats;
  /** Windows measured for this level. */
  readonly trials: number;
  /** Whether the last three windows agreed within --stability-percentage (always true for --request-count). */
  readonly stable: boolean;
}

export interface PerfResult {
  readonly url: string;
  readonly model: string;
  readonly version?: string;
  readonly protocol: ClientProtocol;
  readonly batchSize: number;
  readonly measurement: { readonly mode: 'count'; readonly requestCount: number } | { readonly mode: 'time'; readonly intervalMs: number };
  /** How levels are measured: one --request-count window, or stabilized windows of time or count. */
  readonly stabilization?: {
    readonly mode: 'time_windows' | 'count_windows';
    readonly stabilityPercentage: number;
    readonly maxTrials: number;
    readonly windowRequests?: number;
  };
  /** The latency percentile reported and stabilized on (absent: the average). */
  readonly percentile?: number;
  readonly concurrency: ConcurrencyRange;
  /** --request-rate-range and its distribution, when levels are request rates (open loop). */
  readonly requestRate?: { readonly start: number; readonly end: number; readonly step: number; readonly distribution: 'constant' | 'poisson' };
  /** --async */
  readonly async?: boolean;
  readonly levels: PerfLevel[];
}

export const DEFAULT_MEASUREMENT_INTERVAL_MS = 5000;
export const DEFAULT_STABILITY_PERCENTAGE = 10;
export const DEFAULT_MAX_TRIALS = 10;
export const DEFAULT_MEASUREMENT_REQUEST_COUNT = 50;
/** perf_analyzer judges stability over this many consecutive windows. */
export const STABILITY_WINDOWS = 3;

/**
 * Measures a model like perf_analyzer's concurrency mode, over HTTP or gRPC (-i): for each concurrency
 * level, that many closed-loop clients send the same seeded random batch; client latencies and
 * throughput are measured here, server-side queue/compute averages come from the statistics extension
 * when the server lists it. One unmeasured request first checks that the model answers at all.
 */
export async function perf(opts: PerfOptions): Promise<PerfResult> {
  const protocol = parseProtocol(opts.protocol);
  const batchSize = opts.batchSize ?? 1;
  positiveInteger(batchSize, '-b/--batch-size');
  const range = parseConcurrencyRange(opts.concurrencyRange ?? '1');
  if (opts.requestCount !== undefined) positiveInteger(opts.requestCount, '--request-count');
  const intervalMs = opts.measurementIntervalMs ?? DEFAULT_MEASUREMENT_INTERVAL_MS;
  positiveInteger(intervalMs, '--measurement-interval');
  const mode = opts.measurementMode ?? 'time_windows';
  if (!isMeasurementMode(mode)) {
    throw ofsError('OFS_BAD_ARGUMENT', `--measurement-mode must be time_windows or count_windows, got '${mode}'`);
  }
  const stabilityPercentage = opts.stabilityPercentage ?? DEFAULT_STABILITY_PERCENTAGE;
  if (!(Number.isFinite(stabilityPercentage) && stabilityPercentage > 0)) {
    throw ofsError('OFS_BAD_ARGUMENT', `--stability-percentage must be a positive number, got ${stabilityPercentage}`);
  }
  const maxTrials = opts.maxTrials ?? DEFAULT_MAX_TRIALS;
  positiveInteger(maxTrials, '--max-trials');
  if (maxTrials < STABILITY_WINDOWS) throw ofsError('OFS_BAD_ARGUMENT', `--max-trials must be at least ${STABILITY_WINDOWS}, got ${maxTrials}`);
  if (opts.percentile !== undefined && !(Number.isInteger(opts.percentile) && opts.percentile >= 1 && opts.percentile <= 99)) {
    throw ofsError('OFS_BAD_ARGUMENT', `--percentile must be an integer from 1 to 99, got ${opts.percentile}`);
  }
  const windowRequests = opts.measurementRequestCount ?? DEFAULT_MEASUREMENT_REQUEST_COUNT;
  positiveInteger(windowRequests, '--measurement-request-count');
  const distribution = opts.requestDistribution ?? 'constant';
  if (!isDistribution(distribution)) {
    throw ofsError('OFS_BAD_ARGUMENT', `--request-distribution must be constant or poisson, got '${distribution}'`);
  }
  const requestRate = opts.requestRateRange !== undefined ? { ...parseRequestRateRange(opts.requestRateRange), distribution } : undefined;
  if (requestRate && opts.concurrencyRange !== undefined && opts.concurrencyRange !== '1') {
    throw ofsError('OFS_BAD_ARGUMENT', 'pass either --concurrency-range or --request-rate-range, not both');
  }
  const stabilization =
    opts.requestCount !== undefined ? undefined : { mode, stabilityPercentage, maxTrials, ...(mode === 'count_windows' ? { windowRequests } : {}) };

  const inputData = parseInputData(opts.inputData);
  // The file is read (and its form checked) before the server is asked anything.
  const steps = inputData.kind === 'file' ? await readInputDataFile(inputData.path) : undefined;
  const client = createInferenceClient(protocol, { url: opts.url, timeoutMs: opts.timeoutMs });
  try {
    return await measure(client, opts, protocol, batchSize, range, intervalMs, stabilization, steps, requestRate);
  } finally {
    client.close();
  }
}

async function measure(
  client: InferenceClient,
  opts: PerfOptions,
  protocol: ClientProtocol,
  batchSize: number,
  range: ConcurrencyRange,
  intervalMs: number,
  stabilization: PerfResult['stabilization'],
  steps: readonly unknown[] | undefined,
  requestRate: PerfResult['requestRate'],
): Promise<PerfResult> {
  const serverMeta = await client.getServerMetadata();
  const hasStats = serverMeta.extensions?.includes('statistics') ?? false;
  const metadata = await client.getModelMetadata(opts.model, opts.version);
  const config = await modelConfigOrUndefined(client, opts.model, opts.version);
  const maxBatch = maxBatchSizeOf(metadata, config);
  const requests = steps
    ? requestsFromInputData(opts.inputData ?? '', steps, metadata, maxBatch, batchSize, opts.shapes ?? {})
    : [buildPerfInputs(metadata, maxBatch, batchSize, opts.shapes ?? {}, opts.seed ?? 0)].map((r) => (opts.inputData === 'zero' ? zeroed(r) : r));

  // Encoded once, as perf_analyzer does, so the load generator's own work stays small beside the server's.
  const prepared = requests.map((inputs) => client.prepareInfer(opts.model, inputs, { version: opts.version }));
  let next = 0;
  const send = () => (prepared[next++ % prepared.length] as () => Promise<unknown>)();
  await send();

  const snapshot = async () => {
    if (!hasStats) return undefined;
    try {
      return (await client.getInferenceStatistics(opts.model, opts.version)).model_stats;
    } catch (e) {
      if (isOfsError(e) && e.code === 'OFS_SERVER_ERROR') return undefined;
      throw e;
    }
  };

  const settings: PerfSettings = {
    url: client.url,
    model: opts.model,
    version: opts.version,
    protocol,
    batchSize,
    measurement: opts.requestCount !== undefined ? { mode: 'count', requestCount: opts.requestCount } : { mode: 'time', intervalMs },
    ...(stabilization ? { stabilization } : {}),
    ...(opts.percentile !== undefined ? { percentile: opts.percentile } : {}),
    concurrency: range,
    ...(requestRate ? { requestRate } : {}),
    ...(opts.async ? { async: true } : {}),
  };
  const emit = opts.onEvent ?? (() => undefined);
  emit({ type: 'start', settings });

  const levels: PerfLevel[] = [];
  const poissonRandom = seededRandom((opts.seed ?? 0) + 1);
  const points: { concurrency: number; rate?: number }[] = [];
  if (requestRate) {
    // Rates are decimals: count the steps so 0.1 increments do not drift past the end.
    const n = Math.floor((requestRate.end - requestRate.start) / requestRate.step + 1e-9);
    for (let i = 0; i <= n; i++) points.push({ concurrency: 0, rate: Number((requestRate.start + i * requestRate.step).toFixed(6)) });
  } else {
    for (let c = range.start; c <= range.end; c += range.step) points.push({ concurrency: c });
  }
  for (const { concurrency: c, rate } of points) {
    const before = await snapshot();
    const maxTrials = stabilization?.maxTrials ?? 1;
    const windows: { latenciesUs: number[]; elapsedMs: number; summary: PerfWindow }[] = [];
    let stable = stabilization === undefined;
    for (let trial = 1; trial <= maxTrials; trial++) {
      emit({ type: 'window-start', concurrency: c, ...(rate !== undefined ? { requestRate: rate } : {}), trial, maxTrials, at: Date.now() });
      const bound =
        opts.requestCount !== undefined
          ? { requestCount: opts.requestCount }
          : stabilization?.windowRequests !== undefined
            ? { requestCount: stabilization.windowRequests }
            : { durationMs: intervalMs };
      const m =
        rate !== undefined
          ? await runOpenLoop(send, { rate, distribution: requestRate?.distribution ?? 'constant', random: poissonRandom, ...bound })
          : await runClosedLoop(send, { concurrency: c, ...bound });
      const summary: PerfWindow = {
        requestCount: m.latenciesUs.length,
        elapsedMs: m.elapsedMs,
        throughput: throughput(m.latenciesUs.length, batchSize, m.elapsedMs),
        latencyUs: reportedLatency(summarizeLatencies(m.latenciesUs, opts.percentile), opts.percentile),
      };
      windows.push({ ...m, summary });
      emit({ type: 'window', concurrency: c, trial, maxTrials, window: summary });
      if (stabilization && windows.length >= STABILITY_WINDOWS && isStable(windows.slice(-STABILITY_WINDOWS).map((w) => w.summary), stabilization.stabilityPercentage)) {
        stable = true;
        break;
      }
    }
    const after = await snapshot();
    // As perf_analyzer, a level reports the last (stable) windows together.
    const used = windows.slice(-STABILITY_WINDOWS);
    const latencies = used.flatMap((w) => w.latenciesUs);
    const elapsedMs = used.reduce((sum, w) => sum + w.elapsedMs, 0);
    const level: PerfLevel = {
      concurrency: c,
      ...(rate !== undefined ? { requestRate: rate } : {}),
      requestCount: latencies.length,
      elapsedMs,
      throughput: throughput(latencies.length, batchSize, elapsedMs),
      latencyUs: summarizeLatencies(latencies, opts.percentile),
      server: before && after ? serverStatsDelta(before, after) : undefined,
      trials: windows.length,
      stable,
    };
    levels.push(level);
    emit({ type: 'level', level });
  }

  return { ...settings, levels };
}

/** The latency a level is judged and summarized by: the --percentile, or the average. */
export function reportedLatency(summary: LatencySummary, percentile?: number): number {
  return percentile === undefined ? summary.avg : (summary.percentiles?.[percentile] ?? summary.avg);
}

/**
 * perf_analyzer's stability rule: over the windows given, both throughput and latency stay within
 * `percentage` % of their mean (max and min alike). A window with no completed request is never stable.
 */
export function isStable(windows: readonly PerfWindow[], percentage: number): boolean {
  if (windows.length === 0 || windows.some((w) => w.requestCount === 0)) return false;
  const within = (values: number[]) => {
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    if (mean === 0) return values.every((v) => v === 0);
    return values.every((v) => Math.abs(v - mean) / mean <= percentage / 100);
  };
  return within(windows.map((w) => w.throughput)) && within(windows.map((w) => w.latencyUs));
}

function isDistribution(d: string): d is 'constant' | 'poisson' {
  return d === 'constant' || d === 'poisson';
}

function isMeasurementMode(mode: string): mode is 'time_windows' | 'count_windows' {
  return mode === 'time_windows' || mode === 'count_windows';
}

function positiveInteger(value: number, flag: string): void {
  if (!Number.isInteger(value) || value < 1) throw ofsError('OFS_BAD_ARGUMENT', `${flag} must be a positive integer, got ${value}`);
}

/** "4" → 4:4:1, "1:8" → 1:8:1, "1:8:2" → 1, 3, 5, 7. */
export function parseConcurrencyRange(text: string): ConcurrencyRange {
  const parts = text.split(':');
  const bad = () =>
    ofsError('OFS_BAD_ARGUMENT', `--concurrency-range '${text}' must be start[:end[:step]] with positive integers and end >= start`);
  if (parts.length > 3 || parts.some((p) => !/^\d+$/.test(p.trim()))) throw bad();
  const [start, end = start, step = 1] = parts.map((p) => Number(p));
  if (start < 1 || end < start || step < 1) throw bad();
  return { start, end, step };
}

/** --request-rate-range "100" or "100:400:100": positive numbers (requests/s), end >= start. */
export function parseRequestRateRange(text: string): { start: number; end: number; step: number } {
  const parts = text.split(':');
  const bad = () => ofsError('OFS_BAD_ARGUMENT', `--request-rate-range '${text}' must be start[:end[:step]] with positive numbers and end >= start`);
  if (parts.length > 3 || parts.some((p) => !/^\d+(\.\d+)?$/.test(p.trim()))) throw bad();
  const [start, end = start, step = 1] = parts.map((p) => Number(p));
  if (!(start > 0) || end < start || !(step > 0)) throw bad();
  return { start, end, step };
}

/**
 * perf_analyzer's `--shape NAME:d1,d2,…` (repeatable) → dims by input name. The name is what comes
 * before the last ':', so a name holding ':' still works.
 */
export function parseShapeArgs(values: readonly string[]): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (const value of values) {
    const at = value.lastIndexOf(':');
    const name = value.slice(0, Math.max(0, at));
    const dims = value.slice(at + 1).split(',');
    if (at <= 0 || dims.some((d) => !/^\d+$/.test(d.trim()) || Number(d) < 1)) {
      throw ofsError('OFS_BAD_ARGUMENT', `--shape '${value}' must be NAME:d1,d2,… with positive integer dims, e.g. --shape INPUT_0:3,224,224`);
    }
    Object.defineProperty(shapes, name, { value: dims.map(Number), enumerable: true, writable: true, configurable: true });
  }
  return shapes;
}

/**
 * One seeded random request: every model input at its declared dims, with the batch dim prepended
 * when the model batches. perf_analyzer's rules: -b > 1 needs a batching model, and variable dims
 * need --shape.
 */
export function buildPerfInputs(
  metadata: ModelMetadata,
  maxBatchSize: number,
  batchSize: number,
  shapes: Readonly<Record<string, readonly number[]>>,
  seed: number,
): InferInput[] {
  if (maxBatchSize === 0 && batchSize > 1) {
    throw ofsError('OFS_BAD_ARGUMENT', `can not specify batch size > 1 as the model '${metadata.name}' does not support batching`);
  }
  if (maxBatchSize > 0 && batchSize > maxBatchSize) {
    throw ofsError('OFS_BAD_ARGUMENT', `batch size ${batchSize} is larger than max_batch_size ${maxBatchSize} of '${metadata.name}'`);
  }
  const random = seededRandom(seed);
  return metadata.inputs.map((input) => {
    const declared = maxBatchSize > 0 ? input.shape.slice(1) : [...input.shape];
    const given = shapes[input.name];
    const dims = declared.map((d, i) => (d >= 0 ? d : given?.[i] ?? -1));
    if (given && given.length !== declared.length) {
      throw ofsError('OFS_BAD_ARGUMENT', `--shape ${input.name} has ${given.length} dims but the input has ${declared.length}`);
    }
    if (dims.some((d) => d < 0)) {
      throw ofsError(
        'OFS_BAD_ARGUMENT',
        `input '${input.name}' has variable dims [${declared.join(',')}]; pass --shape ${input.name}:${declared.map((d) => (d < 0 ? 'N' : d)).join(',')}`,
      );
    }
    const shape = maxBatchSize > 0 ? [batchSize, ...dims] : dims;
    let data: Uint8Array;
    try {
      data = randomTensorData(input.datatype, elementCount(shape), random);
    } catch (e) {
      throw ofsError('OFS_BAD_ARGUMENT', `input '${input.name}': ${(e as Error).message}`);
    }
    return { name: input.name, datatype: input.datatype as WireDatatype, shape, data };
  });
}

/**
 * Server-side averages between two statistics snapshots (summed over the versions listed), per
 * successful request as perf_analyzer reports them; overhead is what the request spent outside the
 * queue and the three compute phases.
 */
export function serverStatsDelta(before: readonly ModelStatisticsJson[], after: readonly ModelStatisticsJson[]): ServerSideStats {
  const sum = (stats: readonly ModelStatisticsJson[]) => {
    const total = { inference: 0, execution: 0, success: 0, successNs: 0, queueNs: 0, inputNs: 0, inferNs: 0, outputNs: 0 };
    for (const s of stats) {
      const i = s.inference_stats;
      total.inference += s.inference_count;
      total.execution += s.execution_count;
      total.success += i.success.count;
      total.successNs += i.success.ns;
      total.queueNs += i.queue.ns;
      total.inputNs += i.compute_input.ns;
      total.inferNs += i.compute_infer.ns;
      total.outputNs += i.compute_output.ns;
    }
    return total;
  };
  const a = sum(before);
  const b = sum(after);
  const success = b.success - a.success;
  const avgUs = (ns: number) => (success > 0 ? Math.round(ns / success / 1000) : 0);
  const request = avgUs(b.successNs - a.successNs);
  const queue = avgUs(b.queueNs - a.queueNs);
  const input = avgUs(b.inputNs - a.inputNs);
  const infer = avgUs(b.inferNs - a.inferNs);
  const output = avgUs(b.outputNs - a.outputNs);
  return {
    inferenceCount: b.inference - a.inference,
    executionCount: b.execution - a.execution,
    successCount: success,
    avgRequestUs: request,
    avgOverheadUs: Math.max(0, request - queue - input - infer - output),
    avgQueueUs: queue,
    avgComputeInputUs: input,
    avgComputeInferUs: infer,
    avgComputeOutputUs: output,
  };
}

/** perf_analyzer's report: settings, a block per concurrency level, then the one-line summaries. */
export function formatPerfReport(result: PerfResult): string {
  return [formatPerfSettings(result), ...result.levels.map((l) => formatPerfLevel(l, result.percentile)), formatPerfSummary(result)].join('\n');
}

/** The "*** Measurement Settings ***" block, printed before the first request. */
export function formatPerfSettings(settings: PerfSettings): string {
  const { start, end, step } = settings.concurrency;
  const st = settings.stabilization;
  const latencyName = settings.percentile === undefined ? 'average latency' : `p${settings.percentile} latency`;
  const lines = [
    '*** Measurement Settings ***',
    `  Batch size: ${settings.batchSize}`,
    `  Service Kind: ${settings.protocol.toUpperCase()}`,
    settings.measurement.mode === 'count'
      ? `  Request count: ${settings.measurement.requestCount} requests per concurrency level`
      : st?.mode === 'count_windows'
        ? `  Using "count_windows" mode for stabilization`
        : `  Using "time_windows" mode for stabilization`,
    ...(settings.measurement.mode === 'count'
      ? []
      : st?.mode === 'count_windows'
        ? [`  Minimum number of samples in each window: ${st.windowRequests}`]
        : [`  Measurement window: ${settings.measurement.intervalMs} msec`]),
    ...(st ? [`  Stabilizing using ${latencyName} and throughput (within ${st.stabilityPercentage}%, at most ${st.maxTrials} windows)`] : []),
    settings.requestRate
      ? `  Request Rate range: ${settings.requestRate.start}:${settings.requestRate.end}:${settings.requestRate.step} (${settings.requestRate.distribution} distribution)`
      : `  Concurrency range: ${start}:${end}:${step}`,
    settings.async || settings.requestRate ? '  Using asynchronous calls for inference' : '  Using synchronous calls for inference',
    '',
  ];
  return lines.join('\n');
}

/** One level's block, printed as soon as the level is measured. */
export function formatPerfLevel(level: PerfLevel, percentile?: number): string {
  const l = level.latencyUs;
  const lines = [level.requestRate !== undefined ? `Request Rate: ${level.requestRate} inference requests per seconds` : `Request concurrency: ${level.concurrency}`];
  if (!level.stable) {
    lines.push(
      `  WARNING: no stable measurement within ${level.trials} windows for concurrency ${level.concurrency}; the last ${Math.min(STABILITY_WINDOWS, level.trials)} are reported. Try a longer --measurement-interval or a larger --stability-percentage.`,
    );
  }
  lines.push(
    '  Client: ',
    `    Request count: ${level.requestCount}`,
    `    Throughput: ${level.throughput.toFixed(2)} infer/sec`,
    ...(percentile !== undefined ? [`    p${percentile} latency: ${reportedLatency(l, percentile)} usec`] : []),
    `    p50 latency: ${l.p50} usec`,
    `    p90 latency: ${l.p90} usec`,
    `    p95 latency: ${l.p95} usec`,
    `    p99 latency: ${l.p99} usec`,
    `    Avg latency: ${l.avg} usec (standard deviation ${l.std} usec)`,
  );
  const s = level.server;
  if (s) {
    lines.push(
      '  Server: ',
      `    Inference count: ${s.inferenceCount}`,
      `    Execution count: ${s.executionCount}`,
      `    Successful request count: ${s.successCount}`,
      `    Avg request latency: ${s.avgRequestUs} usec (overhead ${s.avgOverheadUs} usec + queue ${s.avgQueueUs} usec + ` +
        `compute input ${s.avgComputeInputUs} usec + compute infer ${s.avgComputeInferUs} usec + compute output ${s.avgComputeOutputUs} usec)`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

/** perf_analyzer's closing lines, one per level. */
export function formatPerfSummary(result: PerfResult): string {
  const name = result.percentile === undefined ? 'Client Average Batch Latency' : `Client p${result.percentile} Batch Latency`;
  const lines = [`Inferences/Second vs. ${name}`];
  for (const level of result.levels) {
    lines.push(
      `${level.requestRate !== undefined ? `Request Rate: ${level.requestRate}` : `Concurrency: ${level.concurrency}`}, throughput: ${level.throughput.toFixed(2)} infer/sec, latency ${reportedLatency(level.latencyUs, result.percentile)} usec`,
    );
  }
  return lines.join('\n');
}
