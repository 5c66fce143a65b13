import type { FastifyInstance } from 'fastify';
import { restrictionFailure, type RestrictedApi, type Restrictions } from '../restricted-api.js';

/**
 * --http-restricted-api on the HTTP endpoint: which Triton API group a path belongs to, and a hook that
 * answers 403 {"error":"This API is restricted, expecting header '<key>'"} before routing, as Triton
 * does (so a restricted path says 403 whatever the method or model).
 */

const MODEL = String.raw`/v2/models/[^/]+(?:/versions/[^/]+)?`;
const RULES: ReadonlyArray<readonly [RegExp, RestrictedApi]> = [
  [/^\/v2\/health\/(?:live|ready)$/, 'health'],
  [/^\/v2\/models\/stats$/, 'statistics'],
  [new RegExp(`^${MODEL}/ready$`), 'health'],
  [new RegExp(`^${MODEL}/config$`), 'model-config'],
  [new RegExp(`^${MODEL}/stats$`), 'statistics'],
  [new RegExp(`^${MODEL}/(?:infer|generate|generate_stream)$`), 'inference'],
  [new RegExp(`^${MODEL}/trace/setting$`), 'trace'],
  [new RegExp(`^${MODEL}$`), 'metadata'],
  [/^\/v2$/, 'metadata'],
  [/^\/v2\/repository(?:\/.*)?$/, 'model-repository'],
  [/^\/v2\/(?:system|cuda)sharedmemory(?:\/.*)?$/, 'shared-memory'],
  [/^\/v2\/trace\/setting$/, 'trace'],
  [/^\/v2\/logging$/, 'logging'],
  // Not Triton's: the console's latency percentiles are statistics, so whoever may not read
  // /v2/models/stats may not read them either.
  [/^\/console\/api\/latency$/, 'statistics'],
];

/** The API group of a request path (query string allowed), or undefined for paths in none. */
export function httpApiOf(url: string): RestrictedApi | undefined {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  for (const [re, api] of RULES) if (re.test(path)) return api;
  return undefined;
}

export function applyHttpRestrictions(app: FastifyInstance, restrictions: Restrictions): void {
  if (restrictions.size === 0) return;
  app.addHook('onRequest', async (request, reply) => {
    const header = (name: string): string | undefined => {
      const v = request.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const refusal = restrictionFailure(restrictions, httpApiOf(request.url), header, 'API');
    if (refusal) {
      return reply.code(403).header('content-type', 'application/json').send(Buffer.from(JSON.stringify({ error: refusal })));
    }
    return undefined;
  });
}
