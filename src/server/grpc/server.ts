import * as grpc from '@grpc/grpc-js';
import { HEALTH_SERVICE, INFERENCE_SERVICE, serviceDefinition } from '../../protocol/grpc-schema.js';
import type { DataPlane } from '../dataplane.js';
import { healthHandlers, inferenceHandlers } from './handlers.js';

/**
 * Triton's gRPC endpoint (port 8001): GRPCInferenceService and grpc.health.v1.Health over the same
 * DataPlane as HTTP. grpc-js decompresses gzip/deflate requests itself (it advertises
 * `identity,deflate,gzip`), so compression needs no option here.
 */

export interface GrpcServerOptions {
  readonly dataplane: DataPlane;
  /** How long close() lets in-flight calls finish before cancelling them. */
  readonly shutdownGraceMs?: number;
}

export interface GrpcServer {
  readonly server: grpc.Server;
  /** Binds host:port (0 = a free port) and resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** Stops taking calls, waits for in-flight ones (up to the grace period), then cancels the rest. */
  close(): Promise<void>;
}

const DEFAULT_SHUTDOWN_GRACE_MS = 5000;

/** Triton clients raise their limits to INT32_MAX and send batches over gRPC's 4 MB default. */
const SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
};

/**
 * grpc-js writes its own diagnostics to stderr (`E No address added out of total 1 resolved` when a port
 * is taken). ofserve reports those failures itself, in its own words; grpc-js's lines go to `write`
 * (the server's verbose log) instead. grpc-js has one logger per process, so this is process-wide.
 */
export function routeGrpcLibraryLog(write: (line: string) => void): void {
  const line = (...args: unknown[]) => write(`grpc-js: ${args.map(String).join(' ')}`);
  grpc.setLogger({ error: line, info: line, debug: line });
}

function hostPort(host: string, port: number): string {
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${bracketed}:${port}`;
}

export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  const server = new grpc.Server(SERVER_OPTIONS);
  server.addService(serviceDefinition(INFERENCE_SERVICE), inferenceHandlers(options.dataplane));
  server.addService(serviceDefinition(HEALTH_SERVICE), healthHandlers(options.dataplane));
  const grace = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
  let closing: Promise<void> | undefined;

  const listen = (host: string, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.bindAsync(hostPort(host, port), grpc.ServerCredentials.createInsecure(), (error, bound) => {
        if (!error) resolve(bound);
        // grpc-js folds the listen error into its message; give it the errno code callers test for.
        else reject(/EADDRINUSE/.test(error.message) ? Object.assign(error, { code: 'EADDRINUSE' }) : error);
      });
    });

  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => server.forceShutdown(), grace);
      timer.unref();
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return closing;
  };

  return { server, listen, close };
}
