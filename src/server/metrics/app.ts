import type { Registry } from 'prom-client';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { createMetricsRegistry, type MetricsRegistryOptions, type MetricsSource } from './registry.js';

/** Triton's metrics endpoint (port 8002): GET /metrics (or /metrics/) in Prometheus text format. */

export interface MetricsAppOptions extends MetricsRegistryOptions {
  readonly logger?: FastifyServerOptions['logger'];
  /** A registry the server already built (shared with the web console); else one is made here. */
  readonly registry?: Registry;
}

export function createMetricsApp(source: MetricsSource, options: MetricsAppOptions = {}): FastifyInstance {
  const registry = options.registry ?? createMetricsRegistry(source, options);
  const app = Fastify({ logger: options.logger ?? false, exposeHeadRoutes: false });
  const error = (message: string): string => JSON.stringify({ error: message });

  for (const url of ['/metrics', '/metrics/']) {
    app.route({
      method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
      url,
      handler: async (request, reply) => {
        if (request.method !== 'GET') {
          return reply.code(405).header('content-type', 'application/json').send(error('Method Not Allowed'));
        }
        const text = await registry.metrics();
        return reply.code(200).header('content-type', 'text/plain; charset=utf-8').send(text);
      },
    });
  }
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).header('content-type', 'application/json').send(error('Not Found'));
  });
  return app;
}
