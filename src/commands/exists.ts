import { access } from 'node:fs/promises';

/** Whether anything (file, folder, link to either) is at `p`; a path that cannot be read counts as absent. */
export async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}
