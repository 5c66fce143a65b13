import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { status as grpcStatus } from '@grpc/grpc-js';
import { describe, it, expect } from 'vitest';
import { reportError } from '../../src/cli.js';
import {
  ERRORS,
  OfsError,
  isOfsError,
  ofsError,
  toOfsError,
  type ErrorCode,
  type ErrorKind,
  type ErrorSpec,
} from '../../src/errors.js';
import { grpcCodeOf, httpStatusOf } from '../../src/protocol/error-status.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = path.join(ROOT, 'src');
const ERRORS_FILE = path.join(SRC, 'errors.ts');

// A Record over ErrorKind makes tsc fail here when a kind is added or removed, so this set stays the union.
const KIND_SET: Readonly<Record<ErrorKind, true>> = {
  INVALID_ARG: true,
  NOT_FOUND: true,
  UNAVAILABLE: true,
  UNSUPPORTED: true,
  INTERNAL: true,
  ALREADY_EXISTS: true,
  CANCELLED: true,
};
const KINDS = new Set<string>(Object.keys(KIND_SET));

const CODES = Object.keys(ERRORS) as ErrorCode[];
const specOf = (code: ErrorCode) => ERRORS[code] as unknown as ErrorSpec<unknown[]>;
/** One distinct argument per declared parameter, so each can be found in the message. */
const sampleArgs = (code: ErrorCode): string[] => Array.from({ length: specOf(code).message.length }, (_, i) => `arg${i}-sample`);
const build = (code: ErrorCode): OfsError =>
  (ofsError as unknown as (c: ErrorCode, ...a: unknown[]) => OfsError)(code, ...sampleArgs(code));

interface DocSection {
  readonly code: string;
  readonly body: string;
}

function docSections(markdown: string): DocSection[] {
  const parts = markdown.split(/^## /m).slice(1);
  return parts.map((part) => {
    const newline = part.indexOf('\n');
    return { code: part.slice(0, newline).trim(), body: part.slice(newline + 1) };
  });
}

/** Markdown backslash escapes (`\<version>` keeps `<version>` from being read as an HTML tag). */
const unescapeMarkdown = (text: string): string => text.replace(/\\([\\`*_{}[\]()#+\-.!<>])/g, '$1');

/** A bullet item of a section, with its continuation lines joined. */
function bullet(body: string, label: string): string | undefined {
  const match = new RegExp(`^- ${label}: (.*(?:\\n  .*)*)`, 'm').exec(body);
  return match?.[1].replace(/\n\s+/g, ' ').trim();
}

const docs = docSections(readFileSync(path.join(ROOT, 'docs', 'errors.md'), 'utf8'));

describe('ERRORS table', () => {
  it('declares every code as OFS_ in upper snake case', () => {
    expect(CODES.length).toBeGreaterThan(0);
    for (const code of CODES) expect(code).toMatch(/^OFS_[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  });

  it('gives every code a known kind, a non-empty message for sample arguments, and a non-empty fix when it has one', () => {
    for (const code of CODES) {
      const spec = specOf(code);
      expect(KINDS.has(spec.kind), `${code} kind ${spec.kind}`).toBe(true);
      const message = spec.message(...sampleArgs(code));
      expect(typeof message, code).toBe('string');
      expect(message.trim().length, code).toBeGreaterThan(0);
      if (spec.fix !== undefined) expect(spec.fix.trim().length, code).toBeGreaterThan(0);
    }
  });

  it('uses every message argument in the message (no argument silently dropped)', () => {
    for (const code of CODES) {
      const message = specOf(code).message(...sampleArgs(code));
      for (const arg of sampleArgs(code)) expect(message, `${code} drops ${arg}`).toContain(arg);
    }
  });

  it('maps every kind to an HTTP status and a gRPC code', () => {
    for (const kind of KINDS) {
      expect(httpStatusOf(kind as ErrorKind)).toBeGreaterThanOrEqual(400);
      expect(grpcStatus[grpcCodeOf(kind as ErrorKind)]).toBeDefined();
    }
  });

  // The wording clients match on, copied from docs/triton-protocol.md (not from errors.ts).
  it('repeats Triton wording where clients match on it', () => {
    const msg = <C extends ErrorCode>(code: C, ...args: unknown[]) =>
      (ofsError as unknown as (c: C, ...a: unknown[]) => OfsError)(code, ...args).message;
    expect(msg('OFS_MODEL_UNKNOWN', 'm')).toBe("Request for unknown model: 'm' is not found");
    expect(msg('OFS_MODEL_NO_VERSIONS', 'm')).toBe("Request for unknown model: 'm' has no available versions");
    expect(msg('OFS_INFER_BINARY_SIZE', 'X', 16, 'm')).toBe("unexpected size for input 'X', expecting 16 additional bytes for model 'm'");
    expect(msg('OFS_INFER_EXTRA_DATA', 'm')).toBe("unexpected additional input data for model 'm'");
    expect(msg('OFS_INFER_JSON', 'Unexpected end')).toBe('failed to parse the request JSON buffer: Unexpected end');
    expect(msg('OFS_CLASSIFICATION_TYPE', 'FP16')).toBe("class result not available for output due to unsupported type 'FP16'");
    expect(msg('OFS_CLASSIFICATION_TOO_LARGE')).toBe('classification output tensor too large');
    expect(msg('OFS_PATH_ESCAPES', '../labels.txt')).toBe('../labels.txt is outside model directory');
    expect(msg('OFS_NO_VERSIONS', 'm')).toBe("at least one version must be available under the version policy of model 'm'");
    expect(msg('OFS_CONFIG_MISSING', 'm')).toBe("model configuration is not provided for model 'm'");
  });
});

describe('docs/errors.md', () => {
  it('has one section per code, in the order of src/errors.ts', () => {
    expect(docs.map((s) => s.code)).toEqual(CODES);
  });

  it('names no code that src/errors.ts lacks, and misses none', () => {
    const documented = new Set(docs.map((s) => s.code));
    expect(CODES.filter((c) => !documented.has(c))).toEqual([]);
    expect([...documented].filter((c) => !(c in ERRORS))).toEqual([]);
  });

  it('states the kind, HTTP status, gRPC code and exit code the source gives each code', () => {
    const silent = { stdout: () => undefined, stderr: () => undefined };
    for (const { code, body } of docs) {
      if (!(code in ERRORS)) continue;
      const line = bullet(body, 'kind');
      const m = /^`(\w+)` · HTTP (\d+) · gRPC (\d+) \(`(\w+)`\) · exit code (\d+)$/.exec(line ?? '');
      expect(m, `${code}: kind line "${line}"`).not.toBeNull();
      if (!m) continue;
      const [, kind, http, grpc, grpcName, exit] = m;
      const error = build(code as ErrorCode);
      expect(kind, code).toBe(error.kind);
      expect(Number(http), code).toBe(httpStatusOf(error.kind));
      expect(Number(grpc), code).toBe(grpcCodeOf(error.kind));
      expect(grpcName, code).toBe(grpcStatus[Number(grpc)]);
      expect(Number(exit), code).toBe(reportError(error, silent));
    }
  });

  it('says when each error happens, gives an example message, and gives the fix exactly as the CLI prints it', () => {
    for (const { code, body } of docs) {
      if (!(code in ERRORS)) continue;
      expect(bullet(body, 'when'), `${code}: when`).toBeTruthy();
      expect(bullet(body, 'example'), `${code}: example`).toMatch(/^`.+`/);
      const fix = bullet(body, 'fix');
      expect(fix, `${code}: fix`).toBeTruthy();
      const declared = specOf(code as ErrorCode).fix;
      if (declared !== undefined) expect(unescapeMarkdown(fix ?? ''), code).toBe(declared);
      else expect(fix, code).toMatch(/^no fix is printed/);
    }
  });
});

/** Every `'OFS_…'` string literal and `ERRORS.OFS_…` property read in TypeScript text (comments do not count). */
function codesReferenced(text: string): Set<string> {
  const source = ts.createSourceFile('scan.ts', text, ts.ScriptTarget.ES2022, false);
  const found = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) && node.text.startsWith('OFS_')) found.add(node.text);
    if (ts.isPropertyAccessExpression(node) && node.name.text.startsWith('OFS_')) found.add(node.name.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('error codes in use', () => {
  it('throws or reads every declared code somewhere in src/ outside errors.ts', () => {
    const used = new Set<string>();
    for (const file of sourceFiles(SRC)) {
      if (file === ERRORS_FILE) continue;
      for (const code of codesReferenced(readFileSync(file, 'utf8'))) used.add(code);
    }
    expect(CODES.filter((code) => !used.has(code))).toEqual([]);
  });

  it('finds references in code but not in comments', () => {
    const text = "// throws 'OFS_A'\n/* ERRORS.OFS_B */\nthrow ofsError('OFS_C');\nconst f = ERRORS.OFS_D.fix;\n";
    expect([...codesReferenced(text)].sort()).toEqual(['OFS_C', 'OFS_D']);
  });
});

describe('ofsError / toOfsError', () => {
  it('builds an OfsError carrying the code, its kind and its fix', () => {
    const e = ofsError('OFS_REPOSITORY_NOT_FOUND', '/no/such/store');
    expect(e).toBeInstanceOf(OfsError);
    expect(e).toBeInstanceOf(Error);
    expect(isOfsError(e)).toBe(true);
    expect(e.name).toBe('OfsError');
    expect(e.code).toBe('OFS_REPOSITORY_NOT_FOUND');
    expect(e.kind).toBe('NOT_FOUND');
    expect(e.fix).toBe(ERRORS.OFS_REPOSITORY_NOT_FOUND.fix);
    expect(e.message).toBe('model repository not found: /no/such/store');
  });

  it('leaves fix undefined for a code declared without one', () => {
    const e = ofsError('OFS_SERVER_ERROR', 500, 'boom');
    expect(e.kind).toBe('INTERNAL');
    expect(e.fix).toBeUndefined();
    expect(e.message).toBe('server answered 500: boom');
  });

  it('keeps an OfsError as the same object', () => {
    const e = ofsError('OFS_MODEL_UNKNOWN', 'm');
    expect(toOfsError(e)).toBe(e);
    expect(toOfsError(e, 'OFS_BACKEND_FAILED')).toBe(e);
  });

  it('wraps an Error as OFS_INTERNAL with its message and the original as cause', () => {
    const original = new TypeError('x is undefined');
    const e = toOfsError(original);
    expect(e).toBeInstanceOf(OfsError);
    expect(e.code).toBe('OFS_INTERNAL');
    expect(e.kind).toBe('INTERNAL');
    expect(e.message).toBe('x is undefined');
    expect(e.cause).toBe(original);
  });

  it('wraps a non-Error value by its string form, under the code asked for', () => {
    const e = toOfsError('socket hang up', 'OFS_BACKEND_FAILED');
    expect(e.code).toBe('OFS_BACKEND_FAILED');
    expect(e.kind).toBe('INTERNAL');
    expect(e.message).toBe('socket hang up');
    expect(e.cause).toBe('socket hang up');
    expect(toOfsError(42).message).toBe('42');
  });

  it('does not treat a plain Error as an OfsError', () => {
    expect(isOfsError(new Error('OFS_INTERNAL'))).toBe(false);
    expect(isOfsError({ code: 'OFS_INTERNAL', kind: 'INTERNAL' })).toBe(false);
  });
});
