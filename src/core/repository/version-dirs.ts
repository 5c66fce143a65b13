import { SKIPPED_VERSION_DIRS } from '../config/constants.js';

/**
 * What a sub-folder of a model folder is, under Triton's rules: a version (an integer name without
 * leading zeros), a folder Triton skips silently (warmup/, initial_state/, configs/), or a folder it
 * skips with a warning.
 */
export type VersionDirName =
  | { readonly kind: 'version'; readonly version: number }
  | { readonly kind: 'skipped' }
  | { readonly kind: 'ignored'; readonly warning: string };

export function parseVersionDirName(name: string): VersionDirName {
  if (SKIPPED_VERSION_DIRS.has(name)) return { kind: 'skipped' };
  if (!/^[0-9]+$/.test(name)) {
    return { kind: 'ignored', warning: `ignore version directory '${name}' which fails to convert to integral number` };
  }
  if (name.length > 1 && name.startsWith('0')) {
    return { kind: 'ignored', warning: `ignore version directory '${name}' which contains leading zeros in its directory name` };
  }
  const version = Number(name);
  // Triton versions are int64; past 2^53 a JS number would silently name another version.
  if (!Number.isSafeInteger(version)) {
    return { kind: 'ignored', warning: `ignore version directory '${name}' which is too large a version number` };
  }
  return { kind: 'version', version };
}
