/**
 * What `npm pack` ships: everything the package's own scripts, its bin and its README point a user at,
 * and none of the development tree (tests, caches, benchmarks, CI). Reads the file list npm itself
 * computes (`npm pack --dry-run --json`; scripts skipped so that it does not rebuild dist/).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  license: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
};

/** Scripts for working on the clone; everything else (lifecycle, build:native, …) runs in an install. */
const DEV_SCRIPTS = new Set(['build', 'prepare', 'typecheck', 'test', 'bench', 'bench:soak', 'bench:int8', 'bench:spinning', 'coverage']);
/** README paths that belong to the clone, not to the package. */
const DEV_PATHS = [/^test\//, /^bench\//, /^\.ci\//, /^scripts\/(device-check|prepare-device-carry|fresh-clone-check)\.sh$/, /^model_repository\//];
/** Never in the tarball. */
const NEVER = [/^test\//, /^\.cache\//, /^coverage\//, /^bench\//, /^\.ci\//, /^node_modules\//, /^native\/build\//, /^\.carry\//, /^device-out\//, /^model_repository\//, /\.test\.ts$/, /^\.npmrc$/];

let packed: Set<string>;

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
}

/** Tokens of a shell command that name a file of this repository. */
function pathsIn(command: string): string[] {
  return command
    .split(/[\s;&|()'"=]+/)
    .filter((t) => /^[\w.-]+(\/[\w.-]+)*\.\w+$|\//.test(t) && !t.startsWith('-') && !t.includes('*'))
    .map((t) => t.replace(/^\.\//, ''))
    .filter((t) => existsSync(path.join(ROOT, t)));
}

/** Repository paths the README names in `code` or in a link, outside fenced blocks. */
function readmePaths(): string[] {
  const text = readFileSync(path.join(ROOT, 'README.md'), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  const found = new Set<string>();
  for (const m of text.matchAll(/`([^`\n]+)`|\]\(([^)\s]+)\)/g)) {
    const t = (m[1] ?? m[2]).trim();
    if (/\s|:\/\/|^[/<~$-]/.test(t) || !t.includes('/')) continue;
    if (existsSync(path.join(ROOT, t))) found.add(t);
  }
  return [...found].sort();
}

function isPacked(p: string): boolean {
  if (p.endsWith('/') || (existsSync(path.join(ROOT, p)) && statSync(path.join(ROOT, p)).isDirectory())) {
    const prefix = p.endsWith('/') ? p : `${p}/`;
    return [...packed].some((f) => f.startsWith(prefix));
  }
  return packed.has(p);
}

beforeAll(async () => {
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  const [report] = JSON.parse(stdout) as { files: { path: string }[] }[];
  packed = new Set(report.files.map((f) => f.path));
}, 120_000);

describe('npm pack', () => {
  it("ships every file the package's install-time and user scripts run", () => {
    const shipped = Object.entries(pkg.scripts).filter(([name]) => !DEV_SCRIPTS.has(name));
    expect(shipped.map(([name]) => name)).toEqual(expect.arrayContaining(['preinstall', 'build:native']));
    for (const [name, command] of shipped) {
      const files = pathsIn(command);
      expect(files.length, `${name}: ${command}`).toBeGreaterThan(0);
      for (const f of files) expect(packed.has(f), `${name} runs ${f}`).toBe(true);
    }
  });

  it('ships what build:native compiles and what the CLI reads at run time', () => {
    for (const dir of ['native/src', 'templates', 'proto']) {
      for (const f of filesUnder(dir)) expect(packed.has(f), f).toBe(true);
    }
    for (const bin of Object.values(pkg.bin)) {
      const target = bin.replace(/^\.\//, '');
      expect(packed.has(target), target).toBe(true);
      // The bin is a shim into dist/ (built by `npm test` before this runs).
      for (const m of readFileSync(path.join(ROOT, target), 'utf8').matchAll(/from '(\.[^']+)'/g)) {
        const imported = path.posix.join(path.posix.dirname(target), m[1]);
        expect(packed.has(imported), `${target} imports ${imported}`).toBe(true);
      }
    }
  });

  it('ships what the README points at, and the Apache-2.0 LICENSE', () => {
    const paths = readmePaths();
    expect(paths).toEqual(expect.arrayContaining(['docs/errors.md', 'proto/model_config.proto']));
    for (const p of paths.filter((p) => !DEV_PATHS.some((re) => re.test(p)))) expect(isPacked(p), p).toBe(true);
    expect(pkg.license).toBe('Apache-2.0');
    expect(packed.has('LICENSE')).toBe(true);
    expect(readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
  });

  it('ships no tests, caches, benchmarks or CI files', () => {
    const wrong = [...packed].filter((f) => NEVER.some((re) => re.test(f)));
    expect(wrong).toEqual([]);
  });
});
