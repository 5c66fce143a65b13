import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram, main } from '../../src/cli.js';
import { serve, type RunningServer } from '../../src/commands/serve.js';
import { jsonDocSections, jsonShapeMismatches } from '../fixtures/json-docs.js';
import { solidImage } from '../fixtures/images.js';
import { colourClassifierOnnx } from '../fixtures/models.js';
import { oneflowFixture } from '../fixtures/oneflow.js';

/**
 * docs/json.md against what `--json` really prints: each command runs through the CLI in-process
 * (paths absolute, so no chdir), and its stdout must parse as one JSON object of the documented shape.
 * `demo` is checked in demo.test.ts, which runs it anyway.
 */

let dir: string;
let server: RunningServer | undefined;

async function run(args: string[]): Promise<{ code: number; json: unknown; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  process.exitCode = undefined;
  await main(['node', 'ofserve', ...args], { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  const stdout = out.join('\n');
  return { code, json: JSON.parse(stdout) as unknown, stdout, stderr: err.join('\n') };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ofserve-json-docs-'));
  await solidImage(join(dir, 'red.png'), { r: 250, g: 10, b: 10 }, 32, 32);
}, 60_000);
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the shape checker', () => {
  it('accepts the documented example itself, and finds wrong types, undocumented and missing keys', () => {
    const example = jsonDocSections().get('classify')?.example as Record<string, unknown>;
    expect(jsonShapeMismatches('classify', example)).toEqual([]);
    expect(jsonShapeMismatches('classify', { ...example, size: 224, extra: true })).toEqual([
      'size: documented as string, printed number',
      'extra: printed but not documented',
    ]);
    const { output: _dropped, version: _optional, ...rest } = example;
    expect(jsonShapeMismatches('classify', rest)).toEqual(['output: documented but not printed (mark it Optional if it may be absent)']);
  });

  it('documents every command that takes --json, and the error object', () => {
    const withJson = buildProgram()
      .commands.filter((c) => c.options.some((o) => o.long === '--json'))
      .map((c) => c.name());
    expect([...jsonDocSections().keys()].sort()).toEqual([...withJson, 'error'].sort());
  });
});

describe('--json output matches docs/json.md', () => {
  it('init, validate, classify, perf', async () => {
    const repo = join(dir, 'repo');
    const init = await run(['init', colourClassifierOnnx().path, '--name', 'colours', '-o', repo, '--json']);
    expect(init.code, init.stderr).toBe(0);
    expect(jsonShapeMismatches('init', init.json)).toEqual([]);

    const validate = await run(['validate', '--model-store', repo, '--json']);
    expect(validate.code, validate.stdout).toBe(0);
    expect(jsonShapeMismatches('validate', validate.json)).toEqual([]);
    // A broken model and an empty store, so problem objects are checked too.
    await mkdir(join(dir, 'bad', 'broken'), { recursive: true });
    await writeFile(join(dir, 'bad', 'broken', 'config.pbtxt'), 'name: "broken"\nmax_batch_size: -1\n');
    const bad = await run(['validate', '--model-store', join(dir, 'bad'), '--json']);
    expect(bad.code).toBe(1);
    expect((bad.json as { models: { problems: unknown[] }[] }).models[0].problems.length).toBeGreaterThan(0);
    expect(jsonShapeMismatches('validate', bad.json)).toEqual([]);
    await mkdir(join(dir, 'empty'));
    const empty = await run(['validate', '--model-store', join(dir, 'empty'), '--json']);
    expect((empty.json as { problems: unknown[] }).problems.length).toBeGreaterThan(0);
    expect(jsonShapeMismatches('validate', empty.json)).toEqual([]);

    server = await serve({ cwd: dir, modelStore: repo, httpPort: 0, address: '127.0.0.1', quiet: true, installSignalHandlers: false });
    const url = server.urls.http as string;
    const classify = await run(['classify', join(dir, 'red.png'), '-u', url, '--json']);
    expect(classify.code, classify.stderr).toBe(0);
    expect(jsonShapeMismatches('classify', classify.json)).toEqual([]);

    const perf = await run(['perf', '-m', 'colours', '-u', url, '--request-count', '2', '--json']);
    expect(perf.code, perf.stderr).toBe(0);
    expect(jsonShapeMismatches('perf', perf.json)).toEqual([]);
  }, 120_000);

  it('convert', async () => {
    const convert = await run(['convert', oneflowFixture('affine_with_parameter'), '-o', join(dir, 'affine.onnx'), '--json']);
    expect(convert.code, convert.stderr).toBe(0);
    expect(jsonShapeMismatches('convert', convert.json)).toEqual([]);
  });

  it('a failure is one error object on stdout, with the exit code of its kind', async () => {
    const missing = await run(['classify', join(dir, 'nope.jpg'), '--json']);
    expect(missing.code).toBe(1);
    expect(jsonShapeMismatches('error', missing.json)).toEqual([]);
    expect(missing.json).toMatchObject({ error: { code: 'OFS_IMAGE_UNREADABLE', message: expect.stringContaining('nope.jpg') } });

    const usage = await run(['classify', 'x.jpg', '--top', 'many', '--json']);
    expect(usage.code).toBe(2);
    expect(jsonShapeMismatches('error', usage.json)).toEqual([]);
    expect(usage.json).toMatchObject({ error: { code: 'OFS_BAD_ARGUMENT', message: expect.stringContaining('--top') } });

    const unreachable = await run(['perf', '-m', 'm', '-u', '127.0.0.1:1', '--json']);
    expect(unreachable.code).toBe(3);
    expect(unreachable.json).toMatchObject({ error: { code: 'OFS_SERVER_UNREACHABLE' } });
    expect(unreachable.stdout.trim().split('\n').at(-1)).toBe('}');
  });
});
