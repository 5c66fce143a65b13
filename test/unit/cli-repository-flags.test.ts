import { describe, expect, it, vi } from 'vitest';

/** The model-store flags of serve and validate, at the boundary between commander and the commands. */

const calls: Record<string, unknown[]> = {};
const record = (name: string) => async (opts: unknown) => {
  (calls[name] ??= []).push(opts);
  if (name === 'serve') return { closed: Promise.resolve() };
  return { ok: true, problems: [] };
};
vi.mock('../../src/commands/serve.js', () => ({ serve: record('serve') }));
vi.mock('../../src/commands/validate.js', () => ({ validate: record('validate'), formatValidateReport: () => 'validate report' }));

const { main } = await import('../../src/cli.js');

async function run(args: string[]) {
  const out: string[] = [];
  process.exitCode = undefined;
  await main(['node', 'ofserve', ...args], { stdout: (t) => out.push(t), stderr: (t) => out.push(t) });
  return { code: process.exitCode ?? 0, out: out.join('\n') };
}

describe('model store flags', () => {
  it('validate: --quick skips the deep check, --strict and --allow-symlinks-outside-store pass through', async () => {
    await run(['validate']);
    await run(['validate', '--quick', '--strict', '--allow-symlinks-outside-store']);
    expect(calls.validate?.at(-2)).toMatchObject({ deep: true, strict: false, allowLinksOutsideStore: false });
    expect(calls.validate?.at(-1)).toMatchObject({ deep: false, strict: true, allowLinksOutsideStore: true });
    const help = (await run(['validate', '--help'])).out;
    for (const flag of ['--quick', '--strict', '--allow-symlinks-outside-store']) expect(help).toContain(flag);
  });

  it('serve: --model-load-thread-count (Triton, default 4) and --allow-symlinks-outside-store', async () => {
    await run(['serve']);
    expect(calls.serve?.at(-1)).toMatchObject({ modelLoadThreads: 4, allowLinksOutsideStore: false });
    await run(['serve', '--model-load-thread-count', '2', '--allow-symlinks-outside-store']);
    expect(calls.serve?.at(-1)).toMatchObject({ modelLoadThreads: 2, allowLinksOutsideStore: true });
    expect((await run(['serve', '--model-load-thread-count', '0'])).code).toBe(2);
    const help = (await run(['serve', '--help'])).out;
    for (const flag of ['--model-load-thread-count', '--allow-symlinks-outside-store']) expect(help).toContain(flag);
  });
});
