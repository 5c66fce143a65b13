import type { ModelConfig } from '../config/model-config.js';
import type { Problem } from '../problem.js';
import type { RuleContext } from './config-rules.js';

/** What was read from one output's label file. */
export interface LabelFileFacts {
  /** The label file as shown to the user. */
  readonly file: string;
  readonly count: number;
}

export interface LabelRuleOptions {
  /** `--strict`: a label count that differs from the class count is an error instead of a warning. */
  readonly strict?: boolean;
}

/**
 * Label files against the outputs that name them: one label per class, the class dimension being the
 * last dim of the output. Triton does not check the count (a class without a label is reported by its
 * index alone), so a mismatch is a warning unless --strict. A file that could not be read is reported
 * by the I/O that looked for it.
 */
export function checkLabels(config: ModelConfig, labels: ReadonlyMap<string, LabelFileFacts>, ctx: RuleContext, opts: LabelRuleOptions = {}): Problem[] {
  const problems: Problem[] = [];
  (config.output ?? []).forEach((out, i) => {
    if (!out.label_filename || !out.name) return;
    const facts = labels.get(out.name);
    if (!facts) return;
    const dims = out.dims ?? [];
    const classes = dims.length > 0 ? dims[dims.length - 1] : undefined;
    if (classes !== undefined && classes > 0 && facts.count !== classes) {
      const consequence = unusedOrMissing(facts.count, classes);
      problems.push({
        severity: opts.strict ? 'error' : 'warning',
        file: facts.file,
        field: `output[${i}].label_filename`,
        message: `${facts.file} has ${facts.count} label${facts.count === 1 ? '' : 's'}, but output '${out.name}' has ${classes} classes (the last of its dims ${`[${dims.join(', ')}]`}): ${consequence}`,
        fix: `write ${classes} lines, line i naming class i`,
      });
    }
  });
  return problems;
}

/** What a count mismatch means for the answers, in words. */
function unusedOrMissing(labels: number, classes: number): string {
  if (labels > classes) return labels - classes === 1 ? 'the last label is never used' : `the last ${labels - classes} labels are never used`;
  return classes - labels === 1 ? `class ${labels} is answered without a label` : `classes ${labels} to ${classes - 1} are answered without a label`;
}
