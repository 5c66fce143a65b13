/**
 * One finding of a validation pass. Validators return every problem at once instead of throwing on the
 * first, so `ofserve validate` can list them all and `serve` can refuse a model with the same list.
 */
export interface Problem {
  readonly severity: 'error' | 'warning';
  /** The file the problem is in (path as the user gave it, or relative to the model store). */
  readonly file: string;
  /** The config field or graph element, e.g. `input[0].dims`, `model.conv1.weight/out`. */
  readonly field?: string;
  readonly message: string;
  /** What to do about it. */
  readonly fix?: string;
}

export function formatProblem(p: Problem): string {
  const where = p.field ? `${p.file}: ${p.field}` : p.file;
  return `${p.severity}: ${where}: ${p.message}${p.fix ? ` (fix: ${p.fix})` : ''}`;
}
