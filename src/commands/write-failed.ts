import { isOfsError, ofsError } from '../errors.js';

/**
 * A file system error (one with an errno code) met while writing `target`, as OFS_WRITE_FAILED, so a
 * read-only folder is a message with a fix rather than an "internal error" with a stack. Anything
 * else, a bug included, is returned as it is.
 */
export function writeFailed(target: string, e: unknown): unknown {
  const code = (e as { code?: unknown } | undefined)?.code;
  if (isOfsError(e) || typeof code !== 'string' || !(e instanceof Error)) return e;
  return ofsError('OFS_WRITE_FAILED', target, e.message.split('\n')[0]);
}
