/**
 * No dead code behind an `export`: every export of src/ is used by some module (src, tests, bench, bin)
 * or in its own file. The review found three that were not (`hasErrors`, `GrpcParameter`, classify's
 * `DEFAULT_URL`); the scanner is checked on their shapes first.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { unusedExports, type SourceText } from '../fixtures/dead-exports.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CODE = /\.(ts|mts|js|mjs)$/;

function sources(dir: string): SourceText[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && CODE.test(e.name) && !path.relative(ROOT, e.parentPath).split(path.sep).includes('data'))
    .map((e) => {
      const file = path.join(e.parentPath, e.name);
      return { file, text: readFileSync(file, 'utf8') };
    });
}

describe('the dead-export scanner', () => {
  const src = path.join(path.sep, 'r', 'src');
  const at = (rel: string, text: string): SourceText => ({ file: path.join(path.sep, 'r', rel), text });

  it('finds exports nobody imports, and only those', () => {
    const tree = [
      at('src/core/problem.ts', 'export interface Problem { severity: string }\nexport function formatProblem(p: Problem) { return p.severity; }\nexport function hasErrors(ps: Problem[]) { return ps.length > 0; }'),
      at('src/client/codec.ts', "import type { X } from './x.js';\nexport type GrpcParameter = X;\nexport type Map = Record<string, X>;"),
      at('src/client/x.ts', 'export type X = number;'),
      at('src/client/index.ts', "export * from './codec.js';"),
      at('src/commands/classify.ts', 'export const DEFAULT_URL = "x";\nexport async function classify() {}'),
      at('src/cli.ts', "import { formatProblem } from './core/problem.js';\nimport type { Map } from './client/index.js';\nconst { classify } = await import('./commands/classify.js');"),
    ];
    expect(unusedExports(tree, src)).toEqual([
      `${path.join(src, 'client/codec.ts')}: GrpcParameter`,
      `${path.join(src, 'commands/classify.ts')}: DEFAULT_URL`,
      `${path.join(src, 'core/problem.ts')}: hasErrors`,
    ]);
  });

  it('counts a namespace import or an opaque dynamic import as using the whole module', () => {
    const tree = [
      at('src/a.ts', 'export const one = 1;\nexport const two = 2;'),
      at('src/b.ts', 'export const three = 3;'),
      at('test/t.ts', "import * as a from '../src/a.js';\nconst b = await import('../src/b.js');"),
    ];
    expect(unusedExports(tree, src)).toEqual([]);
  });
});

describe('src/', () => {
  it('has no export that nothing uses', () => {
    const all = ['src', 'test', 'bench', 'bin'].flatMap(sources);
    const unused = unusedExports(all, path.join(ROOT, 'src')).map((u) => path.relative(ROOT, u.split(': ')[0]) + ': ' + u.split(': ')[1]);
    expect(unused, 'delete these exports (or the code behind them)').toEqual([]);
  });
});
