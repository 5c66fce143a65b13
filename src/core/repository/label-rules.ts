import type { ModelConfig } from '../config/model-config.js';
import type { Problem } from '../problem.js';
import type { RuleContext } from './config-rules.js';

/** What was read from one output's label file. */
export interface LabelFileFacts {
  /** The label file as shown to the user. */
  readonly file: string;
  readonly count: number;
  readonly crlf: boolean;
}

/**
 * Label files against the outputs that name them: one label per class, the class dimension being the
 * last dim of the output. A file that could not be read is reported by the I/O that looked for it.
 */
export function checkLabels(config: ModelConfig, labels: ReadonlyMap<string, LabelFileFacts>, ctx: RuleContext): Problem[] {
  const problems: Problem[] = [];
  (config.output ?? []).forEach((out, i) => {
    if (!out.label_filename || !out.name) return;
    const facts = labels.get(out.name);
    if (!facts) return;
    const dims = out.dims ?? [];
    const classes = dims.length > 0 ? dims[dims.length - 1] : undefined;
    if (classes !== undefined && classes > 0 && facts.count !== classes) {
      problems.push({
        severity: 'error',
        file: facts.file,
        field: `output[${i}].label_filename`,
        message: `${facts.file} has ${facts.count} label${facts.count === 1 ? '' : 's'}, but output '${out.name}' has ${classes} classes (the last of its dims ${`[${dims.join(', ')}]`})`,
        fix: `write ${classes} lines, line i naming class i`,
      });
    }
    if (facts.crlf) {
      problems.push({
        severity: 'warning',
        file: facts.file,
        field: `output[${i}].label_filename`,
        message: `${facts.file} has Windows line endings: like Triton, ofserve keeps the '\\r' at the end of each label`,
        fix: 'save the file with Unix line endings (\\n)',
      });
    }
  });
  return problems;
}
