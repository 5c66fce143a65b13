import type { Http2Server, ServerHttp2Session } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { HEALTH_SERVICE, INFERENCE_SERVICE, serviceDefinition } from '../../protocol/grpc-schema.js';
import type { DataPlane } from '../dataplane.js';
import type { Restrictions } from '../restricted-api.js';
import { healthHandlers, inferenceHandlers } from './handlers.js';
import { restrictHandlers } from './restricted-api.js';

/**
 * Triton's gRPC endpoint (port 8001): GRPCInferenceService and grpc.health.v1.Health over the same
 * DataPlane as HTTP. grpc-js decompresses gzip/deflate requests itself (it advertises
 * `identity,deflate,gzip`), so compression needs no option here; what bounds it is the message limit:
 * grpc-js refuses a frame whose length prefix is over `grpc.max_receive_message_length` before reading
 * it, and stops inflating a compressed one as soon as its output passes the same limit, both with
 * RESOURCE_EXHAUSTED. With the limit at -1 (unlimited) a 1 MB gzip message inflates to 1 GB.
 */

export interface GrpcServerOptions {
  readonly dataplane: DataPlane;
  /**
   * Largest message received (before and after decompression) or sent, in bytes; at most 2^31-1, the
   * most a gRPC length prefix can name and what Triton's clients ask for. Default DEFAULT_MAX_MESSAGE_BYTES.
   */
  readonly maxMessageBytes?: number;
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
  /**
   * Stops taking calls, ends open streams once their requests are answered, waits for in-flight calls
   * (up to the grace period), then cancels the rest.
   */
  close(): Promise<void>;
  /** Cancels every call still open at once (after the server's exit timeout). */
  forceClose(): void;
}

const DEFAULT_SHUTDOWN_GRACE_MS = 5000;

/**
 * Triton clients raise their limits to INT32_MAX and send batches over gRPC's 4 MB default, so the
 * default is HTTP's body limit (--http-max-body), not gRPC's 4 MB.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
export const MAX_MESSAGE_BYTES_LIMIT = 2 ** 31 - 1;

function serverOptions(maxMessageBytes: number): grpc.ServerOptions {
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1 || maxMessageBytes > MAX_MESSAGE_BYTES_LIMIT) {
    throw new RangeError(`maxMessageBytes must be an integer in [1, ${MAX_MESSAGE_BYTES_LIMIT}], got ${maxMessageBytes}`);
  }
  return {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
  };
}

/**
 * HTTP/2 flow-control windows the server grants each connection and each stream. Node's default is
 * 64 KiB for both: a 600 KB image request then crosses in ten windows, each waiting for a
 * WINDOW_UPDATE that the server's event loop sends only when it gets round to reading, so under mixed
 * load a gRPC request took a turn of the event loop per 64 KiB while the same bytes over HTTP/1.1 came
 * in one read (p50 279 ms for gRPC against 8.7 ms for HTTP). With windows larger than a request, the
 * client sends it in one go, as TCP does for HTTP/1.1; what a client may have in flight unread is
 * still bounded by these windows.
 */
export const STREAM_WINDOW_BYTES = 8 * 1024 * 1024;
export const CONNECTION_WINDOW_BYTES = 32 * 1024 * 1024;

/**
 * Exported for bench/transport-floor.mjs too, whose bare grpc-js server must move requests alike.
 * grpc-js has no server option for the windows (only its client has grpc-node.flow_control_window), so
 * they are set on each HTTP/2 session as it opens, through the http2 servers it keeps after binding.
 * Should a later grpc-js rename that field, the defaults simply stay.
 */
export function widenFlowControl(server: grpc.Server): void {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map)) return;
  for (const h2 of servers.keys() as IterableIterator<Http2Server>) {
    if (typeof h2?.on !== 'function' || widened.has(h2)) continue;
    widened.add(h2);
    h2.on('session', (session: ServerHttp2Session) => {
      try {
        session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
        session.settings({ initialWindowSize: STREAM_WINDOW_BYTES });
      } catch {
        // a session that is already closing keeps its defaults
      }
    });
  }
}
const widened = new WeakSet<object>();

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
  const server = new grpc.Server(serverOptions(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES));
  const closingCalls = new AbortController();
  const restrict = (h: grpc.UntypedServiceImplementation) => restrictHandlers(h, options.restrictions ?? new Map());
  server.addService(serviceDefinition(INFERENCE_SERVICE), restrict(inferenceHandlers(options.dataplane, closingCalls.signal)));
  server.addService(serviceDefinition(HEALTH_SERVICE), restrict(healthHandlers(options.dataplane)));
  const grace = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
  let closing: Promise<void> | undefined;

  const listen = (host: string, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.bindAsync(hostPort(host, port), options.credentials ?? grpc.ServerCredentials.createInsecure(), (error, bound) => {
        if (!error) {
          widenFlowControl(server);
          resolve(bound);
        }
        // grpc-js folds the listen error into its message; give it the errno code callers test for.
        else reject(/EADDRINUSE/.test(error.message) ? Object.assign(error, { code: 'EADDRINUSE' }) : error);
      });
    });

  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      closingCalls.abort();
      const timer = setTimeout(() => server.forceShutdown(), grace);
      timer.unref();
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return closing;
  };

  return { server, listen, close, forceClose: () => server.forceShutdown() };
}
