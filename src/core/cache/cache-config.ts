import { ofsError } from '../../errors.js';

/**
 * tritonserver's `--cache-config <cache>,<key>=<value>` (repeatable; keys of one cache accumulate).
 * ofserve has Triton's `local` cache only, whose one setting is `size` in bytes.
 */

export interface CacheConfig {
  readonly sizeBytes: number;
}

const USAGE = 'expected --cache-config local,size=BYTES (e.g. --cache-config local,size=1048576)';

/** undefined when no --cache-config was given; throws OFS_BAD_ARGUMENT naming the bad value. */
export function parseCacheConfig(values: readonly string[] | undefined): CacheConfig | undefined {
  if (!values || values.length === 0) return undefined;
  const settings = new Map<string, string>();
  for (const value of values) {
    const comma = value.indexOf(',');
    const cache = (comma < 0 ? value : value.slice(0, comma)).trim();
    const rest = comma < 0 ? '' : value.slice(comma + 1);
    if (cache !== 'local') {
      throw ofsError('OFS_BAD_ARGUMENT', `--cache-config ${value}: ofserve has only the 'local' cache, not '${cache}'; ${USAGE}`);
    }
    const eq = rest.indexOf('=');
    if (eq < 0) throw ofsError('OFS_BAD_ARGUMENT', `--cache-config ${value}: missing <key>=<value>; ${USAGE}`);
    const key = rest.slice(0, eq).trim();
    if (key !== 'size') throw ofsError('OFS_BAD_ARGUMENT', `--cache-config ${value}: the local cache has no setting '${key}'; ${USAGE}`);
    settings.set(key, rest.slice(eq + 1).trim());
  }
  const size = settings.get('size');
  if (size === undefined) throw ofsError('OFS_BAD_ARGUMENT', `--cache-config: the local cache needs a size; ${USAGE}`);
  const bytes = /^\d+$/.test(size) ? Number(size) : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw ofsError('OFS_BAD_ARGUMENT', `--cache-config local,size=${size}: size must be a positive whole number of bytes; ${USAGE}`);
  }
  return { sizeBytes: bytes };
}
