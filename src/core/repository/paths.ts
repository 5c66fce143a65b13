import path from 'node:path';
import { ofsError } from '../../errors.js';

/**
 * Resolves a path a config names (label_filename, default_model_filename) inside the model folder.
 * A config is user input that the server acts on, so `../../etc/passwd` or an absolute path must not
 * let it read files outside the model's own folder. Throws OFS_PATH_ESCAPES.
 */
export function resolveInsideModelDir(modelDir: string, relPath: string): string {
  if (relPath === '' || path.isAbsolute(relPath) || path.win32.isAbsolute(relPath)) {
    throw ofsError('OFS_PATH_ESCAPES', relPath);
  }
  const root = path.resolve(modelDir);
  const resolved = path.resolve(root, relPath);
  const rel = path.relative(root, resolved);
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
    throw ofsError('OFS_PATH_ESCAPES', relPath);
  }
  return resolved;
}
