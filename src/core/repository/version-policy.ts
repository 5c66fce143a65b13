import type { ModelVersionPolicy } from '../config/model-config.js';
import type { Problem } from '../problem.js';

export interface VersionPolicyContext {
  /** Model name, for Triton's messages. */
  readonly model: string;
  /** The config file the policy comes from (as shown to the user). */
  readonly file: string;
}

/**
 * Which of the `available` versions a policy serves, after Triton: latest(n) → the n highest, all →
 * every one, specific → the listed ones that exist (a missing one is a warning, as Triton only logs it).
 * No policy means latest(1). An empty selection is an error with Triton's message.
 */
export function selectVersions(
  policy: ModelVersionPolicy | undefined,
  available: readonly number[],
  ctx: VersionPolicyContext = { model: '', file: 'config.pbtxt' },
): { versions: number[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const sorted = [...new Set(available)].sort((a, b) => a - b);
  const chosen = [policy?.latest && 'latest', policy?.all && 'all', policy?.specific && 'specific'].filter(
    (c): c is string => typeof c === 'string',
  );
  if (chosen.length > 1) {
    problems.push({
      severity: 'error',
      file: ctx.file,
      field: 'version_policy',
      message: `version_policy sets ${chosen.join(' and ')}, but it is a oneof: only one may be set`,
      fix: 'keep one of latest { num_versions: N }, all { }, specific { versions: [...] }',
    });
  }

  let versions: number[];
  if (policy?.all && chosen[0] === 'all') {
    versions = sorted;
  } else if (policy?.specific && chosen[0] === 'specific') {
    const wanted = policy.specific.versions ?? [];
    versions = sorted.filter((v) => wanted.includes(v));
    for (const v of wanted) {
      if (!sorted.includes(v)) {
        problems.push({
          severity: 'warning',
          file: ctx.file,
          field: 'version_policy.specific.versions',
          message: `version ${v} is specified for model '${ctx.model}', but the version directory is not present`,
          fix: `add a version folder ${v}/ with the model payload, or remove ${v} from the list`,
        });
      }
    }
  } else {
    const n = policy?.latest?.num_versions ?? 1;
    if (n < 1) {
      problems.push({
        severity: 'error',
        file: ctx.file,
        field: 'version_policy.latest.num_versions',
        message: `num_versions is ${n}; it must be at least 1`,
        fix: 'set latest { num_versions: 1 } (or more)',
      });
    }
    versions = n < 1 ? [] : sorted.slice(Math.max(0, sorted.length - n));
  }

  // With no version folder at all the caller reports that more usefully than a policy message.
  if (versions.length === 0 && sorted.length > 0) {
    problems.push({
      severity: 'error',
      file: ctx.file,
      field: 'version_policy',
      message: `at least one version must be available under the version policy of model '${ctx.model}'`,
      fix: `the version folders present are ${sorted.join(', ')}; list one of them in the policy`,
    });
  }
  return { versions, problems };
}
