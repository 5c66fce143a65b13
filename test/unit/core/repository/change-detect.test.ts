import { mkdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fingerprintFolder } from '../../../../src/core/repository/change-detect.js';
import { removeRepoDirs, repoDir } from '../../../fixtures/repo.js';

afterAll(removeRepoDirs);

/** A OneFlow-shaped model folder: the variable sits four levels down. */
const tree = {
  'm/config.pbtxt': 'name: "m"',
  'm/1/model/model.mlir': 'module {}',
  'm/1/model/conv1.weight/meta': 'shape',
  'm/1/model/conv1.weight/out': new Uint8Array(64).fill(1),
};

describe('fingerprintFolder', () => {
  it('is stable for an unchanged folder', async () => {
    const store = await repoDir(tree);
    const a = await fingerprintFolder(path.join(store, 'm'));
    const b = await fingerprintFolder(path.join(store, 'm'));
    expect(a.digest).toBe(b.digest);
    expect(a.entries).toBe(7);
    expect(a.truncated).toBe(false);
  });

  it('sees a variable rewritten in place, same size, deep in the model folder', async () => {
    const store = await repoDir(tree);
    const out = path.join(store, 'm/1/model/conv1.weight/out');
    const before = await fingerprintFolder(path.join(store, 'm'));
    await writeFile(out, new Uint8Array(64).fill(2));
    // Coarse file-system clocks can give the rewrite the same mtime; a later one is what a real edit has.
    const later = new Date(Date.now() + 5000);
    await utimes(out, later, later);
    expect((await fingerprintFolder(path.join(store, 'm'))).digest).not.toBe(before.digest);
  });

  it('sees a file added or removed anywhere', async () => {
    const store = await repoDir(tree);
    const dir = path.join(store, 'm');
    const before = await fingerprintFolder(dir);
    await mkdir(path.join(dir, '1/model/fc.bias'));
    const added = await fingerprintFolder(dir);
    expect(added.digest).not.toBe(before.digest);
    await rm(path.join(dir, '1/model/fc.bias'), { recursive: true });
    await rm(path.join(dir, '1/model/conv1.weight/meta'));
    expect((await fingerprintFolder(dir)).digest).not.toBe(added.digest);
  });

  it('stops at its limits and says so', async () => {
    const store = await repoDir(tree);
    const dir = path.join(store, 'm');
    const shallow = await fingerprintFolder(dir, { maxDepth: 2, maxEntries: 1000 });
    expect(shallow.truncated).toBe(true);
    const few = await fingerprintFolder(dir, { maxDepth: 16, maxEntries: 3 });
    expect(few).toMatchObject({ entries: 3, truncated: true });
  });

  it('walks a link loop once instead of forever', async () => {
    const store = await repoDir(tree);
    await symlink(path.join(store, 'm'), path.join(store, 'm/1/loop'));
    const fp = await fingerprintFolder(path.join(store, 'm'));
    expect(fp.entries).toBe(8);
  });

  it('gives a missing folder a fingerprint of its own', async () => {
    const store = await repoDir(tree);
    expect((await fingerprintFolder(path.join(store, 'nope'))).digest).toBe('missing');
  });
});
