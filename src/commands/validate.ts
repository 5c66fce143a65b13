import path from 'node:path';
import { formatProblem, type Problem } from '../core/problem.js';
import { validateRepository, type ValidateOptions } from '../core/repository/validate.js';

export interface ValidateCommandOptions extends ValidateOptions {
  readonly cwd: string;
  readonly modelStore: string;
}

/** Plain data (JSON-serialisable as is) for `ofserve validate --json`. */
export interface ValidateResult {
  /** Absolute path of the store that was checked. */
  readonly modelStore: string;
  readonly models: Array<{ name: string; problems: Problem[] }>;
  /** Problems of the store itself. */
  readonly problems: Problem[];
  readonly errors: number;
  readonly warnings: number;
  /** No errors (warnings allowed): the CLI exits 0. */
  readonly ok: boolean;
}

/**
 * `ofserve validate --model-store DIR`: every problem of every model at once. Problem files are shown
 * relative to the store. The exit code and printing are the CLI's.
 */
export async function validate(opts: ValidateCommandOptions): Promise<ValidateResult> {
  const modelStore = path.resolve(opts.cwd, opts.modelStore);
  const report = await validateRepository(modelStore, { gpuAvailable: opts.gpuAvailable });
  const all = [...report.problems, ...report.models.flatMap((m) => m.problems)];
  const errors = all.filter((p) => p.severity === 'error').length;
  return {
    modelStore,
    models: report.models,
    problems: report.problems,
    errors,
    warnings: all.length - errors,
    ok: errors === 0,
  };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Human-readable report: one block per model, then a summary line. */
export function formatValidateReport(r: ValidateResult): string {
  const lines: string[] = [];
  for (const p of r.problems) lines.push(formatProblem(p));
  for (const m of r.models) {
    const errors = m.problems.filter((p) => p.severity === 'error').length;
    const status = m.problems.length === 0 ? 'ok' : errors > 0 ? plural(errors, 'error') : plural(m.problems.length, 'warning');
    lines.push(`${m.name}: ${status}`);
    for (const p of m.problems) lines.push(`  ${formatProblem(p)}`);
  }
  lines.push(
    `${r.modelStore}: ${plural(r.models.length, 'model')}, ${plural(r.errors, 'error')}, ${plural(r.warnings, 'warning')}`,
  );
  return lines.join('\n');
}
