import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ofsError } from '../errors.js';
import { BackendRegistry } from '../core/backend.js';
import { parseCacheConfig } from '../core/cache/cache-config.js';
import { ResponseCache } from '../core/cache/response-cache.js';
import { createLogger, silentLogger, type Logger } from '../core/log.js';
import { ModelManager, type ControlMode } from '../core/repository/model-manager.js';
import { composeObservers } from '../core/stats/observers.js';
import { createRecentLatency, readyVersionRefs } from '../core/stats/recent-latency.js';
import { ImagePreprocessBackend } from '../runtime/image/backend.js';
import { OrtBackend } from '../runtime/onnxruntime/backend.js';
import { NativeBackend } from '../runtime/native/backend.js';
import { probeGpu } from '../runtime/native/loader.js';
import { DataPlane } from '../server/dataplane.js';
import { createGrpcServer, MAX_MESSAGE_BYTES_LIMIT, routeGrpcLibraryLog } from '../server/grpc/server.js';
import { formatModelTable } from './model-table.js';
import { createHttpApp } from '../server/http/app.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from '../server/http/limits.js';
import { createMetricsApp } from '../server/metrics/app.js';
import { parseRestrictions } from '../server/restricted-api.js';
import { parseMetricsConfig } from '../server/metrics/config.js';
import { createLatencyMetrics } from '../server/metrics/latency.js';
import { applyHttpRestrictions } from '../server/http/restricted-api.js';
import { grpcServerCredentials, type GrpcTlsOptions } from '../server/grpc/tls.js';
import { createMetricsRegistry } from '../server/metrics/registry.js';
import { tuneHeapForServing } from '../server/heap-tuning.js';

/**
 * The composition root of `ofserve serve`: registers the backends, loads the store through the
 * model manager, puts one DataPlane behind the HTTP and gRPC adapters, and serves metrics.
 */

export interface ServeOptions {
  readonly cwd: string;
  /** One repository, or several (tritonserver's repeated --model-repository). */
  readonly modelStore: string | readonly string[];
  /** undefined = that endpoint is off; 0 = a free port. */
  readonly httpPort?: number;
  readonly grpcPort?: number;
  readonly metricsPort?: number;
  readonly address?: string;
  readonly controlMode?: ControlMode;
  readonly loadModels?: readonly string[];
  readonly pollSecs?: number;
  /** Exit (throw) when a model fails to load at startup; Triton's default is true. */
  readonly exitOnError?: boolean;
  /** Server ready only when every model is ready (Triton's --strict-readiness, default true). */
  readonly strictReadiness?: boolean;
  readonly logVerbose?: number;
  readonly bodyLimit?: number;
  /** The other HTTP limits and timeouts (see server/http/limits.ts); unset ones take the defaults. */
  readonly httpLimits?: Partial<HttpLimits>;
  /** Refuse KIND_GPU groups without a usable GPU (as Triton does) and label counts that differ from the class count. */
  readonly strict?: boolean;
  /** Models loaded at once (tritonserver's --model-load-thread-count, default 4). */
  readonly modelLoadThreads?: number;
  /** Follow links whose target is outside the model store (refused by default). */
  readonly allowLinksOutsideStore?: boolean;
  readonly quiet?: boolean;
  /** Stop gracefully on SIGINT/SIGTERM (default true; off for in-process use such as `demo`). */
  readonly installSignalHandlers?: boolean;
  /**
   * How long a stop may wait for in-flight requests (tritonserver's --exit-timeout-secs, default 30);
   * after it they are answered with "server is shutting down" and the stop completes anyway.
   */
  readonly exitTimeoutSecs?: number;
  /** Largest gRPC message, compressed or inflated (default: bodyLimit, at most 2^31-1). */
  readonly grpcMaxMessageBytes?: number;
  /** The web console at /console on the HTTP port (default true; --allow-console=false). */
  readonly allowConsole?: boolean;
  readonly logger?: Logger;
  /** tritonserver's --cache-config values, e.g. ['local,size=1048576']; absent = no response cache. */
  readonly cacheConfig?: readonly string[];
  /** tritonserver's --http-restricted-api / --grpc-restricted-protocol specs (`<api>,…:<key>=<value>`). */
  readonly httpRestrictedApi?: readonly string[];
  readonly grpcRestrictedProtocol?: readonly string[];
  /** tritonserver's --grpc-use-ssl, --grpc-use-ssl-mutual, --grpc-server-cert/-key, --grpc-root-cert. */
  readonly grpcTls?: GrpcTlsOptions;
  /** tritonserver's --metrics-config <setting>=<value> entries. */
  readonly metricsConfig?: readonly string[];
  /** tritonserver's --metrics-interval-ms (default 2000). */
  readonly metricsIntervalMs?: number;
}

export interface RunningServer {
  readonly urls: { readonly http?: string; readonly grpc?: string; readonly metrics?: string };
  /** The model manager (named for the life cycle it drives). */
  readonly lifecycle: ModelManager;
  readonly dataplane: DataPlane;
  /**
   * Stops taking requests, lets in-flight ones finish (up to the exit timeout), unloads every model.
   * Idempotent.
   */
  close(): Promise<StopOutcome>;
  /** Resolves once the server has stopped (also when a signal stopped it during loading). */
  readonly closed: Promise<StopOutcome>;
}

/**
 * 'drained': every request was answered and every model unloaded in time (exit code 0). 'timed-out':
 * the exit timeout passed first; what was left got an error answer, and the process should exit (1),
 * as tritonserver does when its exit timeout expires.
 */
export type StopOutcome = 'drained' | 'timed-out';

export const DEFAULT_EXIT_TIMEOUT_SECS = 30;
/** After the exit timeout: time for the "shutting down" answers to be written before connections close. */
const ABANDON_FLUSH_MS = 250;

interface Endpoint {
  /** Graceful: stop accepting, wait for in-flight requests. */
  close(): Promise<void>;
  /** Immediate: drop every connection still open. */
  force(): void;
}

/** Checks the options a user typed before anything is loaded, so a bad value costs no model load. */
function checkOptions(opts: ServeOptions): void {
  const t = opts.exitTimeoutSecs;
  if (t !== undefined && (!Number.isInteger(t) || t < 0)) {
    throw ofsError('OFS_BAD_ARGUMENT', `--exit-timeout-secs must be a whole number of seconds >= 0, got ${t}`);
  }
  const m = opts.grpcMaxMessageBytes;
  if (m !== undefined && (!Number.isInteger(m) || m < 1 || m > MAX_MESSAGE_BYTES_LIMIT)) {
    throw ofsError('OFS_BAD_ARGUMENT', `--grpc-max-message-bytes must be an integer from 1 to ${MAX_MESSAGE_BYTES_LIMIT} (2^31-1, the gRPC limit), got ${m}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function addressOf(app: FastifyInstance): number {
  const a = app.server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

/**
 * Stops accepting, lets in-flight requests finish, and closes keep-alive connections as soon as they go
 * idle: fastify closes the idle ones once, at the start, so a connection whose request was still running
 * would otherwise hold the stop for the whole keep-alive timeout.
 */
async function closeDraining(app: FastifyInstance): Promise<void> {
  const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
  }
}

/** Runs `listen`, turning a taken port into OFS_PORT_IN_USE naming the flag that chose it. */
async function listenOn<T>(flag: string, host: string, port: number, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw ofsError('OFS_PORT_IN_USE', host, port, flag);
    throw e;
  }
}

export async function serve(opts: ServeOptions): Promise<RunningServer> {
  checkOptions(opts);
  tuneHeapForServing();
  const log = opts.logger ?? (opts.quiet ? silentLogger : createLogger({ verbose: opts.logVerbose }));
  const storeDirs = (typeof opts.modelStore === 'string' ? [opts.modelStore] : opts.modelStore).map((d) => path.resolve(opts.cwd, d));
  const storeDir = storeDirs[0] ?? path.resolve(opts.cwd, 'model_repository');
  const host = opts.address ?? '0.0.0.0';
  const shownHost = host === '0.0.0.0' ? 'localhost' : host;
  const exitTimeoutMs = (opts.exitTimeoutSecs ?? DEFAULT_EXIT_TIMEOUT_SECS) * 1000;
  const bodyLimit = opts.bodyLimit ?? DEFAULT_HTTP_LIMITS.maxBody;

  const cacheConfig = parseCacheConfig(opts.cacheConfig);
  const responseCache = cacheConfig ? new ResponseCache(cacheConfig.sizeBytes) : undefined;
  if (cacheConfig) log.info(`Response cache: local, ${cacheConfig.sizeBytes} bytes`);

  // Flags are checked before any model loads: a typo must not cost a ResNet load to find out.
  const httpRestrictions = parseRestrictions('--http-restricted-api', opts.httpRestrictedApi ?? []);
  const grpcRestrictions = parseRestrictions('--grpc-restricted-protocol', opts.grpcRestrictedProtocol ?? []);
  const grpcCredentials = opts.grpcPort !== undefined ? grpcServerCredentials(opts.grpcTls ?? {}) : undefined;
  const metricsConfig = parseMetricsConfig(opts.metricsConfig ?? []);
  const latency = createLatencyMetrics(metricsConfig);
  // Only the console reads the percentiles: without it, nothing is collected.
  const consoleOn = opts.httpPort !== undefined && (opts.allowConsole ?? true);
  const recentLatency = consoleOn ? createRecentLatency() : undefined;

  const backends = new BackendRegistry();
  backends.register(new OrtBackend(), 10);
  backends.registerNamed(new ImagePreprocessBackend());
  const gpu = probeGpu();
  if (gpu.binding) backends.register(new NativeBackend(gpu.binding), 20);
  log.verbose(1, `GPU: ${gpu.available ? 'available' : 'not available'} (${gpu.reason})`);

  const lifecycle = new ModelManager({
    storeDir,
    storeDirs,
    statsObserver: (model, version) => composeObservers(latency.observer(model, version), recentLatency?.observer(model, version)),
    backends,
    gpu,
    strict: Boolean(opts.strict),
    controlMode: opts.controlMode ?? 'none',
    startupModels: opts.loadModels,
    log,
    loadThreads: opts.modelLoadThreads,
    allowLinksOutsideStore: opts.allowLinksOutsideStore,
    responseCache,
  });

  // The signal handlers go in before anything loads: a SIGTERM while models load (which can take
  // minutes) stops the loading and exits 0 instead of killing the process.
  let resolveClosed: (outcome: StopOutcome) => void = () => {};
  const closed = new Promise<StopOutcome>((r) => (resolveClosed = r));
  let stopRequested: Promise<StopOutcome> | undefined;
  let stop: (() => Promise<StopOutcome>) | undefined; // set once serving
  const removeSignalHandlers = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopRequested) {
      // A second Ctrl-C means "now", as with tritonserver. Re-raising the signal with our handlers gone
      // lets the kernel end the process; process.exit() would run native teardown under onnxruntime
      // workers that are mid-inference, which aborts.
      log.warn(`received ${signal} again: exiting without waiting for in-flight requests`);
      removeSignalHandlers();
      process.kill(process.pid, signal);
      return;
    }
    log.info(`received ${signal}: finishing in-flight requests (up to --exit-timeout-secs ${exitTimeoutMs / 1000}), then stopping`);
    stopRequested = stop ? stop() : stopLoading();
  };
  const stopLoading = async (): Promise<StopOutcome> => {
    // lifecycle.stop() waits for the model being loaded, then unloads everything; start() loads no more.
    const outcome = await withDeadline(lifecycle.stop(), exitTimeoutMs);
    removeSignalHandlers();
    log.info(outcome === 'drained' ? 'server stopped' : 'exit timeout expired while loading models: exiting');
    resolveClosed(outcome);
    return outcome;
  };
  const installSignals = opts.installSignalHandlers ?? true;
  if (installSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const notServing = (): RunningServer => {
    const dataplane = new DataPlane({ catalog: lifecycle, strictReadiness: opts.strictReadiness ?? true });
    return { urls: {}, lifecycle, dataplane, close: () => stopRequested ?? stopLoading(), closed };
  };

  let failures;
  try {
    failures = await lifecycle.start();
  } catch (e) {
    if (stopRequested) return notServing();
    removeSignalHandlers();
    throw e;
  }
  if (stopRequested) return notServing();
  if (failures.length > 0 && (opts.exitOnError ?? true)) {
    removeSignalHandlers();
    await lifecycle.stop();
    throw ofsError(
      'OFS_MODEL_LOAD_FAILED',
      failures.map((f) => f.model).join("', '"),
      `${failures.map((f) => `${f.model}: ${f.reason}`).join('; ')} (start with --exit-on-error=false to serve the other models)`,
    );
  }

  const dataplane = new DataPlane({ catalog: lifecycle, strictReadiness: opts.strictReadiness ?? true });
  const endpoints: Endpoint[] = [];
  const urls: { http?: string; grpc?: string; metrics?: string } = {};
  try {
    // One registry for the metrics endpoint and the console's metrics panel.
    const metricsRegistry =
      opts.metricsPort !== undefined
        ? createMetricsRegistry(lifecycle, { latency, counterLatencies: metricsConfig.counterLatencies, intervalMs: opts.metricsIntervalMs })
        : undefined;
    if (opts.httpPort !== undefined) {
      const app = createHttpApp({
        dataplane,
        bodyLimit,
        limits: opts.httpLimits,
        // recentLatency exists exactly when the console is on.
        console: recentLatency && {
          controlMode: opts.controlMode ?? 'none',
          restrictedApis: [...httpRestrictions.keys()],
          metricsText: metricsRegistry && (() => metricsRegistry.metrics()),
          latency: { windowMs: recentLatency.windowMs, capacity: recentLatency.capacity, summarize: () => recentLatency.summarize(readyVersionRefs(lifecycle)) },
        },
      });
      applyHttpRestrictions(app, httpRestrictions);
      await listenOn('--http-port', host, opts.httpPort, () => app.listen({ port: opts.httpPort, host }));
      endpoints.push({ close: () => closeDraining(app), force: () => app.server.closeAllConnections() });
      urls.http = `http://${shownHost}:${addressOf(app)}`;
      log.info(`Started HTTPService at ${host}:${addressOf(app)}`);
      if (consoleOn) log.info(`Web console at ${urls.http}/console`);
    }
    if (opts.grpcPort !== undefined) {
      routeGrpcLibraryLog((line) => log.verbose(1, line));
      // The serve-level exit timeout decides when to give up; grpc-js's own grace is only a backstop.
      const grpc = createGrpcServer({
        dataplane,
        maxMessageBytes: opts.grpcMaxMessageBytes ?? Math.min(bodyLimit, MAX_MESSAGE_BYTES_LIMIT),
        shutdownGraceMs: exitTimeoutMs + 2 * ABANDON_FLUSH_MS,
        credentials: grpcCredentials,
        restrictions: grpcRestrictions,
      });
      const grpcPort = opts.grpcPort;
      const port = await listenOn('--grpc-port', host, grpcPort, () => grpc.listen(host, grpcPort));
      endpoints.push({ close: () => grpc.close(), force: () => grpc.forceClose() });
      urls.grpc = `${shownHost}:${port}`;
      log.info(`Started GRPCInferenceService at ${host}:${port}`);
    }
    if (opts.metricsPort !== undefined) {
      const metrics = createMetricsApp(lifecycle, { registry: metricsRegistry });
      await listenOn('--metrics-port', host, opts.metricsPort, () => metrics.listen({ port: opts.metricsPort, host }));
      endpoints.push({ close: () => closeDraining(metrics), force: () => metrics.server.closeAllConnections() });
      urls.metrics = `http://${shownHost}:${addressOf(metrics)}/metrics`;
      log.info(`Started Metrics Service at ${host}:${addressOf(metrics)}`);
    }
  } catch (e) {
    removeSignalHandlers();
    for (const ep of endpoints) ep.force();
    await Promise.all(endpoints.map((ep) => ep.close().catch(() => undefined)));
    await lifecycle.stop();
    throw e;
  }

  let poller: NodeJS.Timeout | undefined;
  if ((opts.controlMode ?? 'none') === 'poll') {
    const every = Math.max(1, opts.pollSecs ?? 15) * 1000;
    const tick = () => {
      lifecycle
        .poll()
        .catch((e: unknown) => log.error(`repository poll failed: ${(e as Error).message}`))
        .finally(() => {
          if (poller) poller = setTimeout(tick, every);
        });
    };
    poller = setTimeout(tick, every);
  }

  let closing: Promise<StopOutcome> | undefined;
  const close = (): Promise<StopOutcome> => {
    closing ??= (async () => {
      if (poller) clearTimeout(poller);
      poller = undefined;
      // Endpoints first (they wait for in-flight requests), then the models (schedulers drain); all of
      // it bounded by the exit timeout.
      const drain = (async () => {
        await Promise.all(endpoints.map((ep) => ep.close().catch((e: unknown) => log.error(`closing an endpoint: ${(e as Error).message}`))));
        await lifecycle.stop();
      })();
      const outcome = await withDeadline(drain, exitTimeoutMs);
      if (outcome === 'timed-out') {
        log.error(`exit timeout of ${exitTimeoutMs / 1000} s expired: answering what is left with "server is shutting down" and stopping`);
        dataplane.abandonInflight();
        await sleep(ABANDON_FLUSH_MS);
        for (const ep of endpoints) ep.force();
        // A model whose execution is stuck is not waited for: the process exit ends it.
        await withDeadline(drain, ABANDON_FLUSH_MS);
      }
      removeSignalHandlers();
      log.info('server stopped');
      resolveClosed(outcome);
      return outcome;
    })();
    return closing;
  };
  stop = close;
  log.info(`\n${formatModelTable(lifecycle.index())}`);
  return { urls, lifecycle, dataplane, close, closed };
}

/** 'drained' when `work` settles within `ms`, else 'timed-out' (work goes on; nobody waits for it). */
async function withDeadline(work: Promise<unknown>, ms: number): Promise<StopOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<StopOutcome>((resolve) => (timer = setTimeout(() => resolve('timed-out'), ms)));
  try {
    return await Promise.race([work.then(() => 'drained' as const, () => 'drained' as const), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
