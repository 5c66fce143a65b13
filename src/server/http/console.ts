import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { LatencySummary, ModelLatency } from '../../core/stats/recent-latency.js';

/**
 * The web console (`GET /console`): static files from console-assets/ plus three small JSON/text routes.
 * Otherwise the page only calls the server's public /v2 endpoints, so it shows what any client would see;
 * /console/api/latency adds the percentiles that Triton's statistics extension has no field for.
 */

/**
 * The assets are read from src/ at run time for the built server too: `src` ships in the package, and
 * this resolves to the same folder from src/server/http/ and dist/server/http/.
 */
export const CONSOLE_ASSETS_DIR = fileURLToPath(new URL('../../../src/server/http/console-assets/', import.meta.url));

export interface ConsoleOptions {
  /** The model control mode: the page offers load/unload only in 'explicit'. */
  readonly controlMode: string;
  /**
   * Triton's --http-restricted-api categories ('model-repository', 'statistics', …) that need a header
   * this page cannot send: it hides those panels instead of showing errors. The server enforces them.
   */
  readonly restrictedApis?: readonly string[];
  /** Prometheus text of the metrics endpoint (absent when --allow-metrics=false). */
  readonly metricsText?: () => Promise<string>;
  /** Recent request latency percentiles of the loaded versions (absent: GET /console/api/latency is 404). */
  readonly latency?: ConsoleLatencySource;
}

interface ConsoleLatencySource {
  readonly windowMs: number;
  /** Most samples a version's window holds. */
  readonly capacity: number;
  summarize(): readonly ModelLatency[];
}

interface LatencyFiguresJson {
  count: number;
  p50_us: number | null;
  p90_us: number | null;
  p99_us: number | null;
}

/** The JSON of GET /console/api/latency: µs like Triton's *_duration_us metrics, null for an empty window. */
export interface LatencyReportJson {
  window_s: number;
  max_samples: number;
  models: Array<LatencyFiguresJson & { name: string; versions: Array<LatencyFiguresJson & { version: string }> }>;
}

const us = (ns: number | undefined): number | null => (ns === undefined ? null : ns / 1000);
const figures = (s: LatencySummary): LatencyFiguresJson => ({
  count: s.count,
  p50_us: us(s.percentilesNs?.p50),
  p90_us: us(s.percentilesNs?.p90),
  p99_us: us(s.percentilesNs?.p99),
});

function latencyReport(source: ConsoleLatencySource): LatencyReportJson {
  return {
    window_s: source.windowMs / 1000,
    max_samples: source.capacity,
    models: source.summarize().map((m) => ({ name: m.model, ...figures(m), versions: m.versions.map((v) => ({ version: v.version, ...figures(v) })) })),
  };
}

const ASSETS: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

/** Everything comes from this origin: no CDN, no inline script, so the page works offline and XSS-free. */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
};

const cache = new Map<string, Buffer>();
async function asset(name: string): Promise<Buffer> {
  let data = cache.get(name);
  if (!data) {
    data = await readFile(new URL(name, `file://${CONSOLE_ASSETS_DIR}`));
    cache.set(name, data);
  }
  return data;
}

function send(reply: FastifyReply, type: string, body: Buffer | string): FastifyReply {
  return reply.code(200).headers(SECURITY_HEADERS).header('content-type', type).send(body);
}

/** Registers GET /, /console, /console/<asset>, /console/settings.json, /console/metrics and /console/api/latency. */
export function registerConsole(app: FastifyInstance, options: ConsoleOptions): void {
  const settings = JSON.stringify({
    controlMode: options.controlMode,
    restrictedApis: options.restrictedApis ?? [],
    metrics: options.metricsText !== undefined,
    latency: options.latency !== undefined,
  });
  app.get('/', (_q, reply) =>
    send(reply, 'text/html; charset=utf-8', '<!doctype html><title>ofserve</title><link rel="icon" href="data:,"><p>ofserve: KServe v2 API under <code>/v2</code>; web console at <a href="/console">/console</a></p>\n'),
  );
  app.get('/console', async (_q, reply) => send(reply, ASSETS['index.html'], await asset('index.html')));
  app.get('/console/', (_q, reply) => reply.redirect('/console'));
  app.get('/console/settings.json', (_q, reply) => send(reply, 'application/json', settings));
  app.get('/console/metrics', async (_q, reply) => {
    if (!options.metricsText) return reply.code(404).header('content-type', 'application/json').send('{"error":"metrics are off (--allow-metrics=false)"}');
    return send(reply, 'text/plain; charset=utf-8', await options.metricsText());
  });
  // --http-restricted-api counts this route as 'statistics' (http/restricted-api.ts), as the per-request
  // latencies it summarizes are what /v2/models/stats sums up.
  app.get('/console/api/latency', (_q, reply) => {
    if (!options.latency) return reply.code(404).header('content-type', 'application/json').send('{"error":"latency percentiles are not collected by this server"}');
    return send(reply, 'application/json', JSON.stringify(latencyReport(options.latency)));
  });
  app.get<{ Params: { file: string } }>('/console/:file', async (q, reply) => {
    // Only the listed names: the parameter never reaches the file system otherwise.
    const type = Object.hasOwn(ASSETS, q.params.file) ? ASSETS[q.params.file] : undefined;
    if (!type) return reply.code(404).header('content-type', 'application/json').send('{"error":"Not Found"}');
    return send(reply, type, await asset(q.params.file));
  });
}
