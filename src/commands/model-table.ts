import type { ModelIndexEntry } from '../core/served-model.js';

/**
 * The model table tritonserver prints once it has loaded the store, so the first screen of
 * `ofserve serve` reads the way Triton users expect:
 *   +------------------+---------+--------+
 *   | Model            | Version | Status |
 */
export function formatModelTable(entries: readonly ModelIndexEntry[]): string {
  const rows = entries.map((e) => [e.name, e.version ?? '-', e.state === 'READY' ? 'READY' : `${e.state}: ${e.reason ?? ''}`.trim()]);
  const header = ['Model', 'Version', 'Status'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [rule, line(header), rule, ...rows.map(line), rule].join('\n');
}
