import path from 'node:path';
import type { ModelSource } from '../core/backend.js';
import type { ModelConfig } from '../core/config/model-config.js';
import { formatProblem, type Problem } from '../core/problem.js';
import { validateRepository, type ValidateOptions } from '../core/repository/validate.js';
import { OrtBackend } from '../runtime/onnxruntime/backend.js';

export interface ValidateCommandOptions extends Omit<ValidateOptions, 'build'> {
  readonly cwd: string;
  readonly modelStore: string;
  /**
   * Build each model in onnxruntime as serve does (default true): catches graphs onnxruntime refuses
   * (an output no node produces, an op it lacks) at the cost of a session per served version.
   */
  readonly deep?: boolean;
}

/**
 * The deep check: an onnxruntime session made from the same source serve would use, on CPU with one
 * thread, then closed. A KIND_GPU model is checked on CPU too: onnxruntime is the fallback serve uses
 * for whatever the GPU backend cannot run, so a graph it accepts can be served.
 */
function ortBuild(): (source: ModelSource, config: ModelConfig) => Promise<void> {
  const backend = new OrtBackend();
  return async (source, config) => {
    const session = await backend.createSession(source, { device: 'cpu', threads: 1, maxBatch: Math.max(1, config.max_batch_size ?? 0) });
    await session.dispose();
  };
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
  const report = await validateRepository(modelStore, {
    gpuAvailable: opts.gpuAvailable,
    strict: opts.strict,
    allowLinksOutsideStore: opts.allowLinksOutsideStore,
    ...((opts.deep ?? true) ? { build: ortBuild() } : {}),
  });
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
