import chalk from 'chalk';

/**
 * Shared text output for commands: aligned tables and JSON. Commands return data; the CLI picks
 * `--json` (formatJson) or a human table. chalk turns colour off by itself when stdout is not a TTY.
 */

export type Align = 'left' | 'right';

export interface Column<R> {
  readonly header: string;
  readonly value: (row: R) => string | number;
  readonly align?: Align;
  /** Styles the cell after padding is computed (colour codes do not count toward width). */
  readonly style?: (text: string, row: R) => string;
}

// ANSI SGR sequences, which chalk emits; they take no columns on screen.
const ANSI = /\u001b\[[0-9;]*m/g;

export function visibleWidth(text: string): number {
  return [...text.replace(ANSI, '')].length;
}

function pad(text: string, width: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, width - visibleWidth(text)));
  return align === 'right' ? fill + text : text + fill;
}

/** Renders rows as space-separated aligned columns under a bold header; `indent` prefixes each line. */
export function renderTable<R>(rows: readonly R[], columns: readonly Column<R>[], indent = ''): string {
  const cells = rows.map((row) => columns.map((c) => String(c.value(row))));
  const widths = columns.map((c, i) => Math.max(visibleWidth(c.header), ...cells.map((r) => visibleWidth(r[i]))));
  const lastIndex = columns.length - 1;
  const line = (parts: string[]) => (indent + parts.join('  ')).replace(/\s+$/, '');
  const header = line(columns.map((c, i) => chalk.bold(i === lastIndex && c.align !== 'right' ? c.header : pad(c.header, widths[i], c.align ?? 'left'))));
  const body = cells.map((r, ri) =>
    line(
      r.map((text, i) => {
        const col = columns[i];
        const padded = i === lastIndex && col.align !== 'right' ? text : pad(text, widths[i], col.align ?? 'left');
        return col.style ? col.style(padded, rows[ri]) : padded;
      }),
    ),
  );
  return [header, ...body].join('\n');
}

/** Stable, indented JSON for --json output. */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}
