import * as grpc from '@grpc/grpc-js';
import { HEALTH_SERVICE, INFERENCE_SERVICE, serviceDefinition } from '../../protocol/grpc-schema.js';
import type { DataPlane } from '../dataplane.js';
import type { Restrictions } from '../restricted-api.js';
import { healthHandlers, inferenceHandlers } from './handlers.js';
import { restrictHandlers } from './restricted-api.js';

/**
 * Triton's gRPC endpoint (port 8001): GRPCInferenceService and grpc.health.v1.Health over the same
 * DataPlane as HTTP. grpc-js decompresses gzip/deflate requests itself (it advertises
 * `identity,deflate,gzip`), so compression needs no option here.
 */

export interface GrpcServerOptions {
  readonly dataplane: DataPlane;
  /** How long close() lets in-flight calls finish before cancelling them. */
  readonly shutdownGraceMs?: number;
  /** TLS (--grpc-use-ssl…); default insecure. */
  readonly credentials?: grpc.ServerCredentials;
  /** --grpc-restricted-protocol groups. */
  readonly restrictions?: Restrictions;
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

function hostPort(host: string, port: number): string {
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${bracketed}:${port}`;
}

export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  const server = new grpc.Server(SERVER_OPTIONS);
  const restrict = (h: grpc.UntypedServiceImplementation) => restrictHandlers(h, options.restrictions ?? new Map());
  server.addService(serviceDefinition(INFERENCE_SERVICE), restrict(inferenceHandlers(options.dataplane)));
  server.addService(serviceDefinition(HEALTH_SERVICE), restrict(healthHandlers(options.dataplane)));
  const grace = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
  let closing: Promise<void> | undefined;

  const listen = (host: string, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.bindAsync(hostPort(host, port), options.credentials ?? grpc.ServerCredentials.createInsecure(), (error, bound) => {
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
