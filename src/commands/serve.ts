import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ofsError } from '../errors.js';
import { BackendRegistry } from '../core/backend.js';
import { createLogger, silentLogger, type Logger } from '../core/log.js';
import { ModelLifecycle, type ControlMode } from '../core/repository/lifecycle.js';
import { ImagePreprocessBackend } from '../runtime/image/backend.js';
import { OrtBackend } from '../runtime/onnxruntime/backend.js';
import { NativeBackend } from '../runtime/native/backend.js';
import { probeGpu } from '../runtime/native/loader.js';
import { DataPlane } from '../server/dataplane.js';
import { createGrpcServer } from '../server/grpc/server.js';
import { formatModelTable } from './model-table.js';
import { createHttpApp } from '../server/http/app.js';
import { createMetricsApp } from '../server/metrics/app.js';

/**
 * The composition root of `ofserve serve`: registers the backends, loads the store through the
 * lifecycle manager, puts one DataPlane behind the HTTP and gRPC adapters, and serves metrics.
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
  /** Refuse KIND_GPU groups without a usable GPU, as Triton does. */
  readonly strict?: boolean;
  readonly quiet?: boolean;
  /** Stop gracefully on SIGINT/SIGTERM (default true; off for in-process use such as `demo`). */
  readonly installSignalHandlers?: boolean;
  readonly logger?: Logger;
}

export interface RunningServer {
  readonly urls: { readonly http?: string; readonly grpc?: string; readonly metrics?: string };
  readonly lifecycle: ModelLifecycle;
  readonly dataplane: DataPlane;
  /** Stops taking requests, lets in-flight ones finish, unloads every model. Idempotent. */
  close(): Promise<void>;
  /** Resolves once the server has stopped. */
  readonly closed: Promise<void>;
}

const DEFAULT_BODY_LIMIT = 256 * 1024 * 1024;

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

export async function serve(opts: ServeOptions): Promise<RunningServer> {
  const log = opts.logger ?? (opts.quiet ? silentLogger : createLogger({ verbose: opts.logVerbose }));
  const storeDirs = (typeof opts.modelStore === 'string' ? [opts.modelStore] : opts.modelStore).map((d) => path.resolve(opts.cwd, d));
  const storeDir = storeDirs[0] ?? path.resolve(opts.cwd, 'model_repository');
  const host = opts.address ?? '0.0.0.0';
  const shownHost = host === '0.0.0.0' ? 'localhost' : host;

  const backends = new BackendRegistry();
  backends.register(new OrtBackend(), 10);
  backends.registerNamed(new ImagePreprocessBackend());
  const gpu = probeGpu();
  if (gpu.binding) backends.register(new NativeBackend(gpu.binding), 20);
  log.verbose(1, `GPU: ${gpu.available ? 'available' : 'not available'} (${gpu.reason})`);

  const lifecycle = new ModelLifecycle({
    storeDir,
    storeDirs,
    backends,
    gpu,
    strictGpu: Boolean(opts.strict),
    controlMode: opts.controlMode ?? 'none',
    startupModels: opts.loadModels,
    log,
  });
  const failures = await lifecycle.start();
  if (failures.length > 0 && (opts.exitOnError ?? true)) {
    await lifecycle.stop();
    throw ofsError(
      'OFS_MODEL_LOAD_FAILED',
      failures.map((f) => f.model).join("', '"),
      `${failures.map((f) => `${f.model}: ${f.reason}`).join('; ')} (start with --exit-on-error=false to serve the other models)`,
    );
  }

  const dataplane = new DataPlane({ catalog: lifecycle, strictReadiness: opts.strictReadiness ?? true });
  const closers: Array<() => Promise<void>> = [];
  const urls: { http?: string; grpc?: string; metrics?: string } = {};
  try {
    if (opts.httpPort !== undefined) {
      const app = createHttpApp({ dataplane, bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT });
      await app.listen({ port: opts.httpPort, host });
      closers.push(() => closeDraining(app));
      urls.http = `http://${shownHost}:${addressOf(app)}`;
      log.info(`Started HTTPService at ${host}:${addressOf(app)}`);
    }
    if (opts.grpcPort !== undefined) {
      const grpc = createGrpcServer({ dataplane });
      const port = await grpc.listen(host, opts.grpcPort);
      closers.push(() => grpc.close());
      urls.grpc = `${shownHost}:${port}`;
      log.info(`Started GRPCInferenceService at ${host}:${port}`);
    }
    if (opts.metricsPort !== undefined) {
      const metrics = createMetricsApp(lifecycle);
      await metrics.listen({ port: opts.metricsPort, host });
      closers.push(() => closeDraining(metrics));
      urls.metrics = `http://${shownHost}:${addressOf(metrics)}/metrics`;
      log.info(`Started Metrics Service at ${host}:${addressOf(metrics)}`);
    }
  } catch (e) {
    await Promise.all(closers.map((c) => c().catch(() => undefined)));
    await lifecycle.stop();
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') throw ofsError('OFS_BAD_ARGUMENT', `port already in use: ${err.message}; pick another with --http-port/--grpc-port/--metrics-port`);
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

  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let closing: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      // A second Ctrl-C means "now", as with tritonserver. Re-raising the signal with our handlers gone
      // lets the kernel end the process; process.exit() would run native teardown under onnxruntime
      // workers that are mid-inference, which aborts.
      log.warn(`received ${signal} again: exiting without waiting for in-flight requests`);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.kill(process.pid, signal);
      return;
    }
    log.info(`received ${signal}: finishing in-flight requests, then stopping`);
    void close();
  };
  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (poller) clearTimeout(poller);
      poller = undefined;
      // Endpoints first (they wait for in-flight requests), then the models (schedulers drain).
      await Promise.all(closers.map((c) => c().catch((e: unknown) => log.error(`closing an endpoint: ${(e as Error).message}`))));
      await lifecycle.stop();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      log.info('server stopped');
      resolveClosed();
    })();
    return closing;
  };
  if (opts.installSignalHandlers ?? true) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  log.info(`\n${formatModelTable(lifecycle.index())}`);
  return { urls, lifecycle, dataplane, close, closed };
}
