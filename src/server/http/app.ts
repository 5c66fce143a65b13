import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  type HTTPMethods,
} from 'fastify';
import { isOfsError, ofsError, type OfsError } from '../../errors.js';
import { httpStatusOf } from '../../protocol/error-status.js';
import { parseJsonBounded } from '../../protocol/json-scan.js';
import { HEADER_INFERENCE_LENGTH, type V2RepositoryIndexRequest } from '../../protocol/v2-types.js';
import type { DataPlane } from '../dataplane.js';
import { BodyAbortedError, readBody } from './body.js';
import { BodyBuffers } from './body-lease.js';
import { ACCEPTED_ENCODINGS, decodeRequestBody, unsupportedEncodingErrors } from './encoding.js';
import { registerConsole, type ConsoleOptions } from './console.js';
import { handleInfer } from './infer.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './limits.js';

/** The KServe v2 / Triton HTTP endpoint (triton-protocol.md §1, §2, §4) on top of the DataPlane. */

export interface HttpAppOptions {
  readonly dataplane: DataPlane;
  /** Largest infer request body in bytes (after decompression too); overrides limits.maxBody. */
  readonly bodyLimit?: number;
  /** Every other bound on a request or response; unset fields take DEFAULT_HTTP_LIMITS. */
  readonly limits?: Partial<HttpLimits>;
  readonly logger?: FastifyServerOptions['logger'];
  /** The web console at /console (and a link at /); absent: off (--allow-console=false). */
  readonly console?: ConsoleOptions;
}

/** Which body limit a route takes (fastify route config). */
interface RouteBodyConfig {
  readonly infer?: boolean;
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<void> | void;
type Params = Record<string, string | undefined>;

const ALL_METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/** Sent as a Buffer so fastify keeps `application/json` exactly as Triton writes it (no charset appended). */
function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json').send(Buffer.from(JSON.stringify(body)));
}

function sendError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return sendJson(reply, status, { error: message });
}

function sendEmpty(reply: FastifyReply, status: number): FastifyReply {
  return reply.code(status).send();
}

/** Triton's version segment is `[0-9]+`; anything else is an unknown path. */
function versionOk(v: string | undefined): boolean {
  return v === undefined || /^[0-9]+$/.test(v);
}

function jsonBody<T>(request: FastifyRequest, limits: HttpLimits): T | undefined {
  const body = Buffer.isBuffer(request.body) ? request.body : undefined;
  if (!body || body.length === 0) return undefined;
  return parseJsonBounded(body, { maxDepth: limits.maxJsonDepth, maxValues: limits.maxJsonValues }) as T;
}

/** Fastify's own errors (body limit, bad Content-Length, …) as OfsErrors or a plain status + message. */
function toHttpError(error: unknown, bodyLimit: number): { status: number; message: string; ofs?: OfsError } {
  // A stalled upload is HTTP's Request Timeout, outside the ErrorKind table.
  if (isOfsError(error) && error.code === 'OFS_HTTP_BODY_TIMEOUT') return { status: 408, message: error.message, ofs: error };
  if (isOfsError(error)) return { status: httpStatusOf(error.kind), message: error.message, ofs: error };
  const e = error as { code?: string; statusCode?: number; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    // Triton answers an oversized body with 400, and every client treats any non-200 alike; keeping
    // the status from the one ErrorKind table (INVALID_ARG → 400) beats a special-cased 413.
    const ofs = ofsError('OFS_BODY_TOO_LARGE', bodyLimit);
    return { status: httpStatusOf(ofs.kind), message: ofs.message, ofs };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, message: e.message ?? 'Bad Request' };
  }
  return { status: 500, message: e.message || 'internal server error' };
}

/**
 * The body limit of a request's route: infer routes take --http-max-body (--http-max-json when the
 * whole body is JSON, which then is the tighter bound), every other route --http-max-control-body.
 */
function bodyBound(request: FastifyRequest, limits: HttpLimits): { limit: number; tooLarge: () => Error } {
  const config = request.routeOptions.config as RouteBodyConfig | undefined;
  if (!config?.infer) {
    const path = request.url.split('?')[0];
    return {
      limit: limits.maxControlBody,
      tooLarge: () => ofsError('OFS_REQUEST_TOO_LARGE', `the body of ${request.method} ${path}`, `${limits.maxControlBody} bytes`, '--http-max-control-body'),
    };
  }
  if (request.headers[HEADER_INFERENCE_LENGTH] === undefined && limits.maxJson < limits.maxBody) {
    return {
      limit: limits.maxJson,
      tooLarge: () =>
        ofsError(
          'OFS_REQUEST_TOO_LARGE',
          `the request body (all JSON: no ${HEADER_INFERENCE_LENGTH} header)`,
          `${limits.maxJson} bytes`,
          '--http-max-json',
        ),
    };
  }
  return { limit: limits.maxBody, tooLarge: () => ofsError('OFS_BODY_TOO_LARGE', limits.maxBody) };
}

export function createHttpApp(options: HttpAppOptions): FastifyInstance {
  const { dataplane } = options;
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...options.limits, ...(options.bodyLimit ? { maxBody: options.bodyLimit } : {}) };
  const bodyLimit = limits.maxBody;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    exposeHeadRoutes: false,
    routerOptions: { maxParamLength: 1024 },
    // Node answers 408 and closes the socket when headers and body are not in within requestTimeout;
    // it checks every connectionsCheckingInterval, so that follows the timeout down.
    requestTimeout: limits.requestTimeoutMs,
    http: {
      headersTimeout: Math.min(60_000, limits.requestTimeoutMs),
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(limits.requestTimeoutMs / 4))),
    },
  });

  // Triton never looks at Content-Type (the Python client sends none, perf_analyzer sends
  // application/octet-stream or application/json): drop it so one raw-buffer parser takes every body,
  // and a malformed value cannot turn into a 415.
  app.addHook('onRequest', async (request) => {
    delete request.raw.headers['content-type'];
  });
  // Node answers any Expect other than 100-continue (an empty `Expect:` included) with a bare 417;
  // Triton's server ignores such expectations, so a client sending one must still be served.
  app.server.on('checkExpectation', (req, res) => app.server.emit('request', req, res));
  app.removeAllContentTypeParsers();
  const bodyBuffers = new BodyBuffers();
  app.addContentTypeParser('*', (request, payload, done) => {
    const { limit, tooLarge } = bodyBound(request, limits);
    const timedOut = () =>
      ofsError('OFS_HTTP_BODY_TIMEOUT', `no part of the request body arrived for ${limits.bodyTimeoutMs / 1000} s`, '--http-body-timeout-secs');
    const coding = request.headers['content-encoding'] as string | undefined;
    let pooled: ArrayBuffer | undefined;
    // A compressed body is inflated into a buffer of its own, so only identity bodies are pooled.
    const joinInto = coding === undefined ? (size: number) => ((pooled = bodyBuffers.take(size)) ? Buffer.from(pooled, 0, size) : undefined) : undefined;
    readBody(payload, request.headers['content-length'], { limit, idleMs: limits.bodyTimeoutMs, tooLarge, timedOut, joinInto })
      .then((raw) => decodeRequestBody(raw, coding, limit, tooLarge))
      .then(
        (decoded) => {
          if (pooled) bodyBuffers.lend(request.raw, pooled);
          done(null, decoded);
        },
        (e: Error) => {
          if (pooled) bodyBuffers.giveBack(pooled);
          done(e, undefined);
        },
      );
  });

  app.setErrorHandler((error, request, reply) => {
    // Nobody is left to read it; answered only so fastify can finish the request.
    if (error instanceof BodyAbortedError) return void sendError(reply, 400, error.message);
    const { status, message, ofs } = toHttpError(error, bodyLimit);
    if (status >= 500 && !ofs) request.log.error({ err: error }, 'request failed');
    if (ofs && unsupportedEncodingErrors.has(ofs)) reply.header('accept-encoding', ACCEPTED_ENCODINGS);
    void sendError(reply, status, message);
  });
  app.setNotFoundHandler((_request, reply) => {
    void sendError(reply, 404, 'Not Found');
  });

  /** Registers every method on `url` so a known path with the wrong method is 405, not 404. */
  const route = (url: string, handlers: Partial<Record<'GET' | 'POST', Handler>>, config: RouteBodyConfig = {}): void => {
    app.route({
      method: ALL_METHODS,
      url,
      config,
      handler: async (request, reply) => {
        const lease = bodyBuffers.lease(request.raw);
        lease?.watch(reply.raw);
        try {
          const handler = handlers[request.method as 'GET' | 'POST'];
          if (!handler) return sendError(reply, 405, 'Method Not Allowed');
          if (!versionOk((request.params as Params).v)) return sendError(reply, 404, 'Not Found');
          await handler(request, reply);
          return reply;
        } finally {
          lease?.release('handler');
        }
      },
    });
  };

  route('/v2/health/live', { GET: (_q, r) => void sendEmpty(r, dataplane.live() ? 200 : 400) });
  route('/v2/health/ready', { GET: (_q, r) => void sendEmpty(r, dataplane.ready() ? 200 : 400) });
  route('/v2', { GET: (_q, r) => void sendJson(r, 200, dataplane.serverMetadata()) });

  for (const base of ['/v2/models/:m', '/v2/models/:m/versions/:v']) {
    route(base, {
      GET: (q, r) => {
        const { m, v } = q.params as Params;
        void sendJson(r, 200, dataplane.modelMetadata(m as string, v));
      },
    });
    route(`${base}/ready`, {
      GET: (q, r) => {
        const { m, v } = q.params as Params;
        // Triton's ready endpoint answers 400 for both "not ready" and "unknown model".
        try {
          if (dataplane.modelReady(m as string, v)) void sendEmpty(r, 200);
          else void sendError(r, 400, 'Model version not ready');
        } catch (e) {
          void sendError(r, 400, toHttpError(e, bodyLimit).message);
        }
      },
    });
    route(`${base}/config`, {
      GET: (q, r) => {
        const { m, v } = q.params as Params;
        void sendJson(r, 200, dataplane.modelConfig(m as string, v));
      },
    });
    route(`${base}/stats`, {
      GET: (q, r) => {
        const { m, v } = q.params as Params;
        void sendJson(r, 200, dataplane.statistics(m, v));
      },
    });
    route(`${base}/infer`, {
      POST: (q, r) => {
        const { m, v } = q.params as Params;
        return handleInfer(dataplane, m as string, v, q, r, limits);
      },
    }, { infer: true });
  }
  route('/v2/models/stats', { GET: (_q, r) => void sendJson(r, 200, dataplane.statistics()) });

  route('/v2/repository/index', {
    POST: (q, r) => {
      const body = jsonBody<V2RepositoryIndexRequest>(q, limits);
      void sendJson(r, 200, dataplane.repositoryIndex(body?.ready === true));
    },
  });
  route('/v2/repository/models/:m/load', {
    POST: async (q, r) => {
      const body = jsonBody<{ parameters?: Record<string, unknown> }>(q, limits);
      await dataplane.load((q.params as Params).m as string, Object.keys(body?.parameters ?? {}));
      void sendEmpty(r, 200);
    },
  });
  route('/v2/repository/models/:m/unload', {
    POST: async (q, r) => {
      jsonBody(q, limits);
      await dataplane.unload((q.params as Params).m as string);
      void sendEmpty(r, 200);
    },
  });

  if (options.console) registerConsole(app, options.console);

  return app;
}
