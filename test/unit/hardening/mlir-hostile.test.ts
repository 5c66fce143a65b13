/**
 * Hostile model.mlir text and variable folders: parse errors are OFS_MLIR_SYNTAX at a position,
 * folder problems OFS_VARIABLE_INVALID naming the file; no stack overflow, no hang, and no
 * allocation sized by a shape before the `out` file size agrees with it.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isOfsError } from '../../../src/errors.js';
import type { Initializer } from '../../../src/core/graph/ir.js';
import { firstJob, importOneflowJob, jobVariables, loadOneflowModel, parseMlir, parseVariableMeta } from '../../../src/core/graph/oneflow/index.js';
import { unsupportedOps } from '../../../src/core/graph/oneflow/importer.js';
import { checkVariableFiles, variableDecl } from '../../../src/core/graph/oneflow/variables.js';
import { elementCount, dtypeFromWire } from '../../../src/core/tensor/dtype.js';
import { expectOfsOrSuccess, memoryInUse, mutateText, prng } from '../../fixtures/hostile.js';
import { oneflowFixture, makeTemp, removeTemp, writeOneflowFolder } from '../../fixtures/oneflow.js';

const AFFINE = readFileSync(join(oneflowFixture('affine_with_parameter'), 'model.mlir'), 'utf8');

/** Parse → job → variables → import with zero weights of the declared (small) shapes. */
function importText(text: string): void {
  const job = firstJob(parseMlir(text, 'model.mlir'), 'model.mlir');
  unsupportedOps(job, 'model.mlir');
  const variables = new Map<string, Initializer>();
  for (const d of jobVariables(job, 'model.mlir')) {
    const n = elementCount(d.shape);
    if (n > 1e6) return;
    variables.set(d.name, { name: d.name, dtype: d.dtype, shape: [...d.shape], data: new Uint8Array(n * (dtypeFromWire(d.dtype)?.itemSize ?? 1)) });
  }
  importOneflowJob(job, { file: 'model.mlir', variables });
}

const temps: string[] = [];
afterAll(async () => {
  for (const t of temps) await removeTemp(t);
});

describe('hostile model.mlir', () => {
  it('sanity: the fixture imports', () => {
    expect(() => importText(AFFINE)).not.toThrow();
  });

  it('fuzz: 400 mutations parse, or fail with an OfsError', async () => {
    const rnd = prng(2024);
    let failed = 0;
    for (let i = 0; i < 400; i++) {
      const text = mutateText(AFFINE, rnd);
      if (await expectOfsOrSuccess(() => importText(text), `case ${i}`)) failed++;
    }
    expect(failed).toBeGreaterThan(100);
  });

  it('refuses a packed result count it cannot hold, without looping over it', () => {
    const start = Date.now();
    const text = AFFINE.replace('%0 = "oneflow.matmul"', '%0:99999999999 = "oneflow.matmul"');
    const e = (() => {
      try {
        parseMlir(text, 'model.mlir');
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(isOfsError(e)).toBe(true);
    expect((e as Error).message).toMatch(/model\.mlir:\d+:\d+/);
    expect(Date.now() - start).toBeLessThan(2000);
  });

  it('reports deeply nested attributes as a syntax error, not a stack overflow', async () => {
    for (const nested of [`${'['.repeat(100_000)}1${']'.repeat(100_000)}`, `${'{a = '.repeat(50_000)}1${'}'.repeat(50_000)}`, `dense<${'['.repeat(100_000)}1${']'.repeat(100_000)}> : tensor<1xi32>`]) {
      const text = AFFINE.replace('transpose_a = false', `transpose_a = false, deep = ${nested}`);
      const e = await expectOfsOrSuccess(() => parseMlir(text, 'model.mlir'), 'deep');
      expect(e?.message).toMatch(/model\.mlir:\d+:\d+: .*nest/);
    }
    // Realistic nesting still parses.
    expect(() => parseMlir(AFFINE.replace('transpose_a = false', 'transpose_a = false, deep = [[[[1]]]]'), 'model.mlir')).not.toThrow();
  });

  it('does not allocate a splat attribute by its claimed size', async () => {
    const before = memoryInUse();
    for (const count of ['4294967296', '268435456', '99999999999999999999']) {
      const text = AFFINE.replace('shape = [3 : si64, 4 : si64]', `shape = dense<3> : tensor<${count}xi64>`);
      const job = firstJob(parseMlir(text, 'model.mlir'), 'model.mlir');
      const op = job.ops.find((o) => o.name === 'oneflow.variable') as Parameters<typeof variableDecl>[0];
      const e = await expectOfsOrSuccess(() => variableDecl(op, 'model.mlir'), count);
      expect(e?.message).toMatch(/model\.mlir/);
    }
    expect(memoryInUse() - before).toBeLessThan(128 * 1024 * 1024);
  });

  it('checks the out file size before reading a variable with an enormous shape', async () => {
    const dir = await makeTemp();
    temps.push(dir);
    const big = AFFINE.replace('shape = [3 : si64, 4 : si64]} : () -> tensor<3x4xf32>', 'shape = [1000000 : si64, 1000000 : si64]} : () -> tensor<1000000x1000000xf32>')
      .replace('(tensor<1x3xf32>, tensor<3x4xf32>)', '(tensor<1x3xf32>, tensor<1000000x1000000xf32>)');
    await writeOneflowFolder(dir, big, { 'model.a': { shape: [3, 4], values: new Array(12).fill(0) }, 'model.b': { shape: [4], values: [0, 0, 0, 0] } });
    const before = memoryInUse();
    const e = await expectOfsOrSuccess(() => loadOneflowModel(dir), 'big variable');
    expect(e?.message).toMatch(/model\.a.*out.*48 bytes/);
    expect(memoryInUse() - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses meta files that lie about shape or type, including odd type names', async () => {
    const dir = await makeTemp();
    temps.push(dir);
    await writeOneflowFolder(dir, AFFINE, { 'model.a': { shape: [3, 4], values: new Array(12).fill(0) }, 'model.b': { shape: [4], values: [0, 0, 0, 0] } });
    const job = firstJob(parseMlir(AFFINE, 'model.mlir'), 'model.mlir');
    const decl = jobVariables(job, 'model.mlir').find((d) => d.name === 'model.a')!;
    const metas = [
      'shape { dim: 4 dim: 3 }\ndata_type: kFloat\n',
      'shape { dim: 3 dim: 4 }\ndata_type: kDouble\n',
      'shape { dim: 3 dim: 4 }\ndata_type: __proto__\n',
      'shape { dim: 3 dim: 4 }\ndata_type: constructor\n',
      'shape { dim: 99999999999999999999999 dim: 4 }\n',
      'shape { dim: 3 dim: 4 ',
      `${'x { '.repeat(10_000)}`,
      '\u0000\u0001\u0002',
    ];
    for (const meta of metas) {
      await writeFile(join(dir, 'model.a', 'meta'), meta);
      const errors = await checkVariableFiles(dir, decl);
      expect(errors.length, meta.slice(0, 40)).toBeGreaterThan(0);
      for (const err of errors) {
        expect(isOfsError(err)).toBe(true);
        expect(err.message).toMatch(/model\.a/);
        expect(err.message).not.toMatch(/function|\[object/);
      }
    }
    // A meta naming an inherited property is an unknown data_type, not a value.
    expect(() => parseVariableMeta('data_type: toString\n', 'meta')).toThrow(/unknown data_type 'toString'/);
  });

  it('refuses an out file that is a folder or missing, naming it', async () => {
    const dir = await makeTemp();
    temps.push(dir);
    await writeOneflowFolder(dir, AFFINE, { 'model.b': { shape: [4], values: [0, 0, 0, 0] } });
    await mkdir(join(dir, 'model.a', 'out'), { recursive: true });
    await writeFile(join(dir, 'model.a', 'meta'), 'shape { dim: 3 dim: 4 }\ndata_type: kFloat\n');
    const e = await expectOfsOrSuccess(() => loadOneflowModel(dir), 'out is a folder');
    expect(e?.message).toMatch(/model\.a.*out/);
  });
});
