import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Poll mode's change detection (Triton compares a model folder's modification times, recursively): a
 * fingerprint of every entry under a model folder — relative path, size, mtime, ctime and inode — so a
 * variable rewritten in place deep inside a OneFlow `model/` folder is seen like a new config. Only
 * metadata is read, never file contents, and the walk is bounded so a hostile or huge folder (or a
 * link loop) costs a known amount per poll.
 */

export interface WalkLimits {
  /** Folder levels below the model folder that are walked (a OneFlow variable sits at 4). */
  readonly maxDepth: number;
  /** Entries stat'ed per model folder; past it the rest is not looked at. */
  readonly maxEntries: number;
}

export const DEFAULT_WALK_LIMITS: WalkLimits = { maxDepth: 16, maxEntries: 100_000 };

export interface Fingerprint {
  /** Equal for two walks of an unchanged folder. */
  readonly digest: string;
  readonly entries: number;
  /** True when a limit stopped the walk: changes past it go unseen. */
  readonly truncated: boolean;
}

/** The fingerprint of a folder and everything under it; a missing folder has a fingerprint too. */
export async function fingerprintFolder(dir: string, limits: WalkLimits = DEFAULT_WALK_LIMITS): Promise<Fingerprint> {
  const hash = createHash('sha256');
  let entries = 0;
  let truncated = false;
  // Links are followed (a store may link models in), so a folder reached twice is walked once.
  const seen = new Set<string>();

  const walk = async (folder: string, depth: number): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(folder)).sort();
    } catch (e) {
      hash.update(`!${path.relative(dir, folder)}:${(e as NodeJS.ErrnoException).code ?? 'error'}\n`);
      return;
    }
    for (const name of names) {
      if (entries >= limits.maxEntries) {
        truncated = true;
        return;
      }
      entries++;
      const p = path.join(folder, name);
      const s = await stat(p).catch(() => undefined);
      const rel = path.relative(dir, p);
      if (!s) {
        hash.update(`${rel}:dangling\n`);
        continue;
      }
      hash.update(`${rel}:${s.isDirectory() ? 'd' : 'f'}:${s.size}:${s.mtimeMs}:${s.ctimeMs}:${s.ino}\n`);
      if (!s.isDirectory()) continue;
      const id = `${s.dev}:${s.ino}`;
      if (seen.has(id)) continue;
      seen.add(id);
      if (depth >= limits.maxDepth) {
        truncated = true;
        continue;
      }
      await walk(p, depth + 1);
    }
  };

  const root = await stat(dir).catch(() => undefined);
  if (!root) return { digest: 'missing', entries: 0, truncated: false };
  seen.add(`${root.dev}:${root.ino}`);
  hash.update(`.:${root.mtimeMs}:${root.ino}\n`);
  if (root.isDirectory()) await walk(dir, 1);
  return { digest: hash.digest('hex'), entries, truncated };
}
