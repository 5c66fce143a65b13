/**
 * A user's clone has nothing beside it: no source file (src, tests, scripts, benchmarks, CI) may read
 * outside the repository root. The scanner is checked first against the lines that used to do exactly
 * that, so a pass below means something.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findEscapes, sourceFiles } from '../fixtures/path-escapes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The old sibling folder's name, spelled so that this file does not name it literally. */
const SIBLING = ['sha', 'red'].join('');
const FAKE = path.join(path.sep, 'clones', 'ofserve');
const at = (rel: string, source: string) => findEscapes(FAKE, path.join(FAKE, rel), source);

describe('the path-escape scanner', () => {
  it('flags the fixture lines that read the sibling folder before it moved into test/data', () => {
    const images = [
      "const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');",
      `export const sharedDir = resolve(repoRoot, '..', '${SIBLING}');`,
      "export const catJpg = join(sharedDir, 'data', 'cat.jpg');",
    ].join('\n');
    expect(at('test/fixtures/images.ts', images).map((e) => e.line)).toEqual(expect.arrayContaining([2, 3]));
    const oneflow = [
      'const here = dirname(fileURLToPath(import.meta.url));',
      `export const ONEFLOW_FIXTURES = resolve(here, '../../../${SIBLING}/fixtures/oneflow');`,
    ].join('\n');
    expect(at('test/fixtures/oneflow.ts', oneflow).map((e) => e.line)).toContain(2);
  });

  it('flags paths above the root whatever the folder is called', () => {
    const cases: [string, string][] = [
      ['test/fixtures/x.ts', "const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');\nexport const other = resolve(ROOT, '..', 'other', 'cat.jpg');"],
      ['test/unit/a.test.ts', "const f = fileURLToPath(new URL('../../../data/cat.jpg', import.meta.url));"],
      ['test/unit/a.test.ts', "const f = new URL(`../../../${name}/x`, import.meta.url);"],
      ['src/cli.ts', "const pkg = createRequire(import.meta.url)('../../package.json');"],
      ['scripts/x.mjs', "const here = path.dirname(fileURLToPath(import.meta.url));\nreadFileSync(path.join(here, '..', '..', 'labels.txt'));"],
      ['bench/x.mjs', "readFileSync('../labels.txt');"],
      ['bench/y.mjs', "const p = path.resolve('..', 'labels.txt');"],
      ['test/unit/b.test.ts', `const f = '/${'work'}/data/cat.jpg';`],
      ['scripts/run.sh', '#!/usr/bin/env bash\ncd "$(dirname "$0")/../.."\n'],
      ['.ci/run', '#!/usr/bin/env bash\nsource "$(dirname "${BASH_SOURCE[0]}")/../../env.sh"\n'],
    ];
    for (const [file, source] of cases) expect(at(file, source), `${file}: ${source}`).not.toEqual([]);
  });

  it('leaves alone paths inside the root, unknown bases, and hostile path strings used as test data', () => {
    const cases: [string, string][] = [
      ['test/unit/a.test.ts', "const ROOT = fileURLToPath(new URL('../../', import.meta.url));"],
      ['test/unit/server/grpc/s.test.ts', 'const f = (name: string) => new URL(`../../../../proto/${name}`, import.meta.url);'],
      ['src/cli.ts', "const pkg = createRequire(import.meta.url)('../package.json');"],
      ['test/fixtures/images.ts', "export const testDataDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'data');"],
      ['test/unit/p.test.ts', "expect(() => resolveInsideModelDir(dir, '../../etc/passwd')).toThrow();\nconst up = join(tmpdir(), '..');"],
      // A parameter named like a root constant is not that constant.
      ['test/fixtures/r.ts', "const root = fileURLToPath(new URL('../../', import.meta.url));\nexport function up(root: string) { return resolve(root, '..'); }"],
      ['.ci/run', '#!/usr/bin/env bash\ncd "$(dirname "$0")/.."\n'],
    ];
    for (const [file, source] of cases) expect(at(file, source), `${file}: ${source}`).toEqual([]);
  });
});

describe('this repository', () => {
  it('reads nothing outside its root from src, test, scripts, bench, bin, templates or .ci', () => {
    const files = sourceFiles(ROOT, ['src', 'test', 'scripts', 'bench', 'bin', 'templates', '.ci']);
    const rel = files.map((f) => path.relative(ROOT, f).split(path.sep).join('/'));
    // The scan must see the files that once escaped, and the shell scripts.
    expect(rel).toEqual(expect.arrayContaining(['test/fixtures/images.ts', 'test/fixtures/oneflow.ts', 'src/cli.ts', '.ci/run', 'scripts/build-native.sh', 'vitest.config.ts']));
    const escapes = files.flatMap((f) => findEscapes(ROOT, f));
    expect(escapes.map((e) => `${e.file}:${e.line}: ${e.text} (${e.why})`)).toEqual([]);
  });
});
