import type { PerfLevel, PerfResult } from './perf.js';

/** perf's file outputs: -f CSV in perf_analyzer's column layout, and the --plot SVG curve. */

/** One point of the throughput–latency curve; also what --json carries as `curve`. */
export interface CurvePoint {
  readonly concurrency: number;
  readonly throughput: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
}

export function perfCurve(result: PerfResult): CurvePoint[] {
  return result.levels.map((l) => ({ concurrency: l.concurrency, throughput: l.throughput, p50Us: l.latencyUs.p50, p90Us: l.latencyUs.p90, p99Us: l.latencyUs.p99 }));
}

/** perf_analyzer's -f header; times in microseconds. */
export const PERF_CSV_HEADER = [
  'Concurrency',
  'Inferences/Second',
  'Client Send',
  'Network+Server Send/Recv',
  'Server Queue',
  'Server Compute Input',
  'Server Compute Infer',
  'Server Compute Output',
  'Client Recv',
  'p50 latency',
  'p90 latency',
  'p95 latency',
  'p99 latency',
] as const;

/**
 * perf_analyzer's CSV. Client send and receive are not timed apart from the request here, so they are 0
 * and the rest of the average latency beyond the server's queue and compute is "Network+Server Send/Recv",
 * as perf_analyzer derives it; without server statistics that is the whole average latency.
 */
export function formatPerfCsv(result: PerfResult): string {
  const rows = [PERF_CSV_HEADER.join(',')];
  for (const l of result.levels) rows.push(csvRow(l).join(','));
  return `${rows.join('\n')}\n`;
}

function csvRow(l: PerfLevel): (string | number)[] {
  const s = l.server;
  const queue = s?.avgQueueUs ?? 0;
  const input = s?.avgComputeInputUs ?? 0;
  const infer = s?.avgComputeInferUs ?? 0;
  const output = s?.avgComputeOutputUs ?? 0;
  const network = Math.max(0, l.latencyUs.avg - queue - input - infer - output);
  return [l.concurrency, l.throughput.toFixed(2), 0, network, queue, input, infer, output, 0, l.latencyUs.p50, l.latencyUs.p90, l.latencyUs.p95, l.latencyUs.p99];
}

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Throughput (x) against p50/p90/p99 latency in ms (y), one marker per level, labelled with its concurrency. */
export function formatPerfPlot(result: PerfResult): string {
  const W = 720;
  const H = 440;
  const m = { left: 70, right: 120, top: 40, bottom: 56 };
  const points = perfCurve(result);
  const maxX = Math.max(1e-9, ...points.map((p) => p.throughput)) * 1.05;
  const maxY = Math.max(1e-9, ...points.map((p) => p.p99Us / 1000)) * 1.1;
  const x = (v: number) => m.left + (v / maxX) * (W - m.left - m.right);
  const y = (v: number) => H - m.bottom - (v / maxY) * (H - m.top - m.bottom);
  const series: [string, keyof CurvePoint, string][] = [
    ['p50', 'p50Us', '#1a73e8'],
    ['p90', 'p90Us', '#f29900'],
    ['p99', 'p99Us', '#d93025'],
  ];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(`${result.model}: throughput vs latency (${result.protocol.toUpperCase()}, batch ${result.batchSize})`)}</text>`,
    `<line x1="${m.left}" y1="${H - m.bottom}" x2="${W - m.right}" y2="${H - m.bottom}" stroke="#333"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${H - m.bottom}" stroke="#333"/>`,
    `<text x="${(m.left + W - m.right) / 2}" y="${H - 14}" text-anchor="middle">throughput (infer/sec)</text>`,
    `<text transform="translate(18 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">latency (ms)</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const vx = (maxX * i) / 5;
    const vy = (maxY * i) / 5;
    out.push(`<text x="${x(vx).toFixed(1)}" y="${H - m.bottom + 16}" text-anchor="middle">${vx.toFixed(vx >= 100 ? 0 : 1)}</text>`);
    out.push(`<text x="${m.left - 6}" y="${(y(vy) + 4).toFixed(1)}" text-anchor="end">${vy.toFixed(vy >= 10 ? 0 : 2)}</text>`);
    out.push(`<line x1="${m.left}" y1="${y(vy).toFixed(1)}" x2="${W - m.right}" y2="${y(vy).toFixed(1)}" stroke="#eee"/>`);
  }
  series.forEach(([name, key, colour], i) => {
    const xy = points.map((p) => `${x(p.throughput).toFixed(1)},${y((p[key] as number) / 1000).toFixed(1)}`);
    out.push(`<polyline class="${name}" fill="none" stroke="${colour}" stroke-width="2" points="${xy.join(' ')}"/>`);
    for (const [j, p] of points.entries()) {
      out.push(`<circle cx="${xy[j].split(',')[0]}" cy="${xy[j].split(',')[1]}" r="3" fill="${colour}"><title>${name} ${p[key]} usec at concurrency ${p.concurrency}, ${p.throughput.toFixed(2)} infer/sec</title></circle>`);
    }
    out.push(`<rect x="${W - m.right + 16}" y="${m.top + i * 20}" width="14" height="4" fill="${colour}"/><text x="${W - m.right + 36}" y="${m.top + i * 20 + 6}">${name}</text>`);
  });
  for (const p of points) out.push(`<text x="${x(p.throughput).toFixed(1)}" y="${(y(p.p99Us / 1000) - 8).toFixed(1)}" text-anchor="middle" fill="#555">c=${p.concurrency}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
