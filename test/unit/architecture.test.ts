import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, it, expect } from 'vitest';

/**
 * The layering of docs/architecture.md as assertions over every import in src/. Imports are read with
 * the TypeScript parser rather than a regex so that comments and `import(...)` text inside template
 * strings (the worker bootstrap in runtime/onnxruntime/spawn.ts) are not mistaken for imports.
 *
 * Where today's code breaks a rule, the edge is listed in that rule's allow-list: the test then fails
 * both on a new violation and on a listed one that has been fixed (so the list only ever shrinks).
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface ImportRef {
  readonly specifier: string;
  /** `import type`, `export type`, every named binding `type`, or `typeof import('…')`: erased at runtime. */
  readonly typeOnly: boolean;
  readonly dynamic: boolean;
}

/** Every module specifier a TypeScript source imports or re-exports, static or dynamic. */
function importsIn(text: string): ImportRef[] {
  const source = ts.createSourceFile('scan.ts', text, ts.ScriptTarget.ES2022, true);
  const refs: ImportRef[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      refs.push({ specifier: node.moduleSpecifier.text, typeOnly: importIsTypeOnly(node.importClause), dynamic: false });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      refs.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly, dynamic: false });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length > 0 &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      refs.push({ specifier: node.arguments[0].text, typeOnly: false, dynamic: true });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      refs.push({ specifier: node.argument.literal.text, typeOnly: true, dynamic: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return refs;
}

function importIsTypeOnly(clause: ts.ImportClause | undefined): boolean {
  if (!clause) return false; // `import './x.js'` runs the module
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return !clause.name && !!named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
}

interface Edge {
  /** Repository-relative, e.g. `src/core/backend.ts`. */
  readonly from: string;
  /** Repository-relative source file the import resolves to (`.js` → `.ts`), e.g. `src/errors.ts`. */
  readonly to: string;
  readonly typeOnly: boolean;
}

interface PackageImport {
  readonly from: string;
  /** The package name: `@grpc/grpc-js/build/src/x` → `@grpc/grpc-js`, `node:fs` stays `node:fs`. */
  readonly pkg: string;
}

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return listTs(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

const rel = (abs: string): string => path.relative(ROOT, abs).split(path.sep).join('/');

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function scanSrc(): { files: Set<string>; edges: Edge[]; packages: PackageImport[] } {
  const files = listTs(path.join(ROOT, 'src'));
  const edges: Edge[] = [];
  const packages: PackageImport[] = [];
  for (const file of files) {
    for (const ref of importsIn(readFileSync(file, 'utf8'))) {
      if (ref.specifier.startsWith('.')) {
        // NodeNext: source imports name the emitted .js file of a .ts module.
        const target = path.resolve(path.dirname(file), ref.specifier).replace(/\.js$/, '.ts');
        edges.push({ from: rel(file), to: rel(target), typeOnly: ref.typeOnly });
      } else {
        packages.push({ from: rel(file), pkg: packageName(ref.specifier) });
      }
    }
  }
  return { files: new Set(files.map(rel)), edges, packages };
}

const { files: SRC_FILES, edges: EDGES, packages: PACKAGES } = scanSrc();

const under = (file: string, dir: string): boolean => file.startsWith(`${dir}/`);
const ERRORS_TS = 'src/errors.ts';
const show = (e: Edge): string => `${e.from} -> ${e.to}${e.typeOnly ? ' (type)' : ''}`;

/** The edges out of `fromDir` that `allowed` rejects, as `from -> to` lines, sorted. */
function violations(fromDir: string, allowed: (e: Edge) => boolean): string[] {
  return EDGES.filter((e) => under(e.from, fromDir) && !allowed(e))
    .map(show)
    .sort();
}

describe('import scanner', () => {
  it('reads static, multi-line, re-export, side-effect, dynamic and type-only imports, and nothing in comments or strings', () => {
    const text = [
      "import { a } from './a.js';",
      'import {',
      '  b,',
      '  c,',
      "} from '../b.js';",
      "import type { T } from './t.js';",
      "import { type U, type V } from './uv.js';",
      "import { type W, x } from './wx.js';",
      "import './side.js';",
      "export { y } from './y.js';",
      "export type { Z } from './z.js';",
      "export * from './star.js';",
      "const m = await import('./dyn.js');",
      "type M = typeof import('./typeof.js');",
      "// import { no } from './comment.js';",
      "const s = `import('./template.js')`;",
      "const t = \"from './string.js'\";",
    ].join('\n');
    expect(importsIn(text)).toEqual([
      { specifier: './a.js', typeOnly: false, dynamic: false },
      { specifier: '../b.js', typeOnly: false, dynamic: false },
      { specifier: './t.js', typeOnly: true, dynamic: false },
      { specifier: './uv.js', typeOnly: true, dynamic: false },
      { specifier: './wx.js', typeOnly: false, dynamic: false },
      { specifier: './side.js', typeOnly: false, dynamic: false },
      { specifier: './y.js', typeOnly: false, dynamic: false },
      { specifier: './z.js', typeOnly: true, dynamic: false },
      { specifier: './star.js', typeOnly: false, dynamic: false },
      { specifier: './dyn.js', typeOnly: false, dynamic: true },
      { specifier: './typeof.js', typeOnly: true, dynamic: false },
    ]);
  });

  it('names packages without their subpaths', () => {
    expect(packageName('@grpc/grpc-js')).toBe('@grpc/grpc-js');
    expect(packageName('@grpc/grpc-js/build/src/metadata')).toBe('@grpc/grpc-js');
    expect(packageName('fastify')).toBe('fastify');
    expect(packageName('onnxruntime-node/dist/x')).toBe('onnxruntime-node');
  });

  it('resolves every relative import in src/ to a source file in src/', () => {
    expect(EDGES.length).toBeGreaterThan(100);
    expect(EDGES.filter((e) => !SRC_FILES.has(e.to)).map(show)).toEqual([]);
  });

  it('sees the lazy command imports of cli.ts', () => {
    expect(EDGES.some((e) => e.from === 'src/cli.ts' && e.to === 'src/commands/serve.ts')).toBe(true);
  });
});

describe('layering (docs/architecture.md)', () => {
  it('src/core imports only src/core and src/errors.ts', () => {
    expect(violations('src/core', (e) => under(e.to, 'src/core') || e.to === ERRORS_TS)).toEqual([]);
  });

  it('src/core uses none of sharp, onnxruntime-node, fastify, @grpc/grpc-js, prom-client', () => {
    const banned = new Set(['sharp', 'onnxruntime-node', 'fastify', '@grpc/grpc-js', 'prom-client']);
    const found = PACKAGES.filter((p) => under(p.from, 'src/core') && banned.has(p.pkg)).map((p) => `${p.from} -> ${p.pkg}`);
    expect(found).toEqual([]);
  });

  it('src/protocol imports only protocol, core/tensor, types from core, the config schema text, and errors', () => {
    // grpc_service.proto's ModelConfigResponse embeds ModelConfig, so the gRPC schema is built with
    // the config layer's .proto text: the one value protocol takes from core/config.
    const ok = (e: Edge) =>
      under(e.to, 'src/protocol') ||
      under(e.to, 'src/core/tensor') ||
      (e.typeOnly && under(e.to, 'src/core')) ||
      e.to === 'src/core/config/model-config-proto.ts' ||
      e.to === ERRORS_TS;
    expect(violations('src/protocol', ok)).toEqual([]);
  });

  it('each src/runtime/<backend> imports only its own folder, core and errors (the image backend: also src/image)', () => {
    const ok = (e: Edge) => {
      const own = e.from.split('/').slice(0, 3).join('/'); // src/runtime/<backend>
      // The server-side image backend decodes and normalizes with the very code classify uses.
      const image = own === 'src/runtime/image' && under(e.to, 'src/image');
      return under(e.to, own) || under(e.to, 'src/core') || e.to === ERRORS_TS || image;
    };
    expect(violations('src/runtime', ok)).toEqual([]);
  });

  it('src/server never imports commands, cli, runtime, client or image', () => {
    const forbidden = (e: Edge) =>
      ['src/commands', 'src/runtime', 'src/client', 'src/image'].some((dir) => under(e.to, dir)) || e.to === 'src/cli.ts';
    expect(violations('src/server', (e) => !forbidden(e))).toEqual([]);
  });

  it('src/client imports only client, protocol, core/tensor, types from core/config, and errors', () => {
    const ok = (e: Edge) =>
      under(e.to, 'src/client') ||
      under(e.to, 'src/protocol') ||
      under(e.to, 'src/core/tensor') ||
      (e.typeOnly && under(e.to, 'src/core/config')) ||
      e.to === ERRORS_TS;
    expect(violations('src/client', ok)).toEqual([]);
  });

  it('src/image imports only image, core/tensor, errors, and types of core/config and protocol', () => {
    // The input's image shape is read from the model's config or metadata: those types only.
    const ok = (e: Edge) =>
      under(e.to, 'src/image') ||
      under(e.to, 'src/core/tensor') ||
      e.to === ERRORS_TS ||
      (e.typeOnly && (under(e.to, 'src/core/config') || under(e.to, 'src/protocol')));
    expect(violations('src/image', ok)).toEqual([]);
  });

  it('only src/cli.ts, other commands and the terminal views (src/ui) import src/commands', () => {
    const importers = EDGES.filter(
      (e) => under(e.to, 'src/commands') && !(e.from === 'src/cli.ts' || under(e.from, 'src/commands') || under(e.from, 'src/ui')),
    );
    expect(importers.map(show).sort()).toEqual([]);
  });
});
