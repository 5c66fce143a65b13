import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  type HTTPMethods,
} from 'fastify';
import { isOfsError, ofsError, type OfsError } from '../../errors.js';
import { httpStatusOf } from '../../protocol/error-status.js';
import type { V2RepositoryIndexRequest } from '../../protocol/v2-types.js';
import type { DataPlane } from '../dataplane.js';
import { ACCEPTED_ENCODINGS, decodeRequestBody, unsupportedEncodingErrors } from './encoding.js';
import { handleInfer } from './infer.js';

/** The KServe v2 / Triton HTTP endpoint (triton-protocol.md §1, §2, §4) on top of the DataPlane. */

export interface HttpAppOptions {
  readonly dataplane: DataPlane;
  /** Largest request body in bytes (after decompression too). */
  readonly bodyLimit: number;
  readonly logger?: FastifyServerOptions['logger'];
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

function jsonBody<T>(request: FastifyRequest): T | undefined {
  const body = Buffer.isBuffer(request.body) ? request.body : undefined;
  if (!body || body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch (e) {
    throw ofsError('OFS_INFER_JSON', (e as Error).message);
  }
}

/** Fastify's own errors (body limit, bad Content-Length, …) as OfsErrors or a plain status + message. */
function toHttpError(error: unknown, bodyLimit: number): { status: number; message: string; ofs?: OfsError } {
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

export function createHttpApp(options: HttpAppOptions): FastifyInstance {
  const { dataplane, bodyLimit } = options;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    exposeHeadRoutes: false,
    routerOptions: { maxParamLength: 1024 },
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
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    decodeRequestBody(body as Buffer, request.headers['content-encoding'] as string | undefined, bodyLimit).then(
      (decoded) => done(null, decoded),
      (e: Error) => done(e, undefined),
    );
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, message, ofs } = toHttpError(error, bodyLimit);
    if (status >= 500 && !ofs) request.log.error({ err: error }, 'request failed');
    if (ofs && unsupportedEncodingErrors.has(ofs)) reply.header('accept-encoding', ACCEPTED_ENCODINGS);
    void sendError(reply, status, message);
  });
  app.setNotFoundHandler((_request, reply) => {
    void sendError(reply, 404, 'Not Found');
  });

  /** Registers every method on `url` so a known path with the wrong method is 405, not 404. */
  const route = (url: string, handlers: Partial<Record<'GET' | 'POST', Handler>>): void => {
    app.route({
      method: ALL_METHODS,
      url,
      handler: async (request, reply) => {
        const handler = handlers[request.method as 'GET' | 'POST'];
        if (!handler) return sendError(reply, 405, 'Method Not Allowed');
        if (!versionOk((request.params as Params).v)) return sendError(reply, 404, 'Not Found');
        await handler(request, reply);
        return reply;
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
        return handleInfer(dataplane, m as string, v, q, r);
      },
    });
  }
  route('/v2/models/stats', { GET: (_q, r) => void sendJson(r, 200, dataplane.statistics()) });

  route('/v2/repository/index', {
    POST: (q, r) => {
      const body = jsonBody<V2RepositoryIndexRequest>(q);
      void sendJson(r, 200, dataplane.repositoryIndex(body?.ready === true));
    },
  });
  route('/v2/repository/models/:m/load', {
    POST: async (q, r) => {
      const body = jsonBody<{ parameters?: Record<string, unknown> }>(q);
      await dataplane.load((q.params as Params).m as string, Object.keys(body?.parameters ?? {}));
      void sendEmpty(r, 200);
    },
  });
  route('/v2/repository/models/:m/unload', {
    POST: async (q, r) => {
      jsonBody(q);
      await dataplane.unload((q.params as Params).m as string);
      void sendEmpty(r, 200);
    },
  });

  return app;
}
