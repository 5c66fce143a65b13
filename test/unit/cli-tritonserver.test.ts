import { beforeEach, describe, expect, it, vi } from 'vitest';

/** `ofserve tritonserver …` reaches serve() with the options the same serve flags would give. */

const calls: unknown[] = [];
vi.mock('../../src/commands/serve.js', () => ({
  serve: async (opts: unknown) => {
    calls.push(opts);
    return { closed: Promise.resolve() };
  },
}));

const { main } = await import('../../src/cli.js');

async function run(args: string[]) {
  const err: string[] = [];
  process.exitCode = undefined;
  await main(['node', 'ofserve', ...args], { stdout: () => undefined, stderr: (t) => err.push(t) });
  return { code: process.exitCode ?? 0, err: err.join('\n'), opts: calls.at(-1) as Record<string, unknown> | undefined };
}

describe('ofserve tritonserver …', () => {
  beforeEach(() => {
    calls.length = 0;
  });

  it("serves KServe's exact command line", async () => {
    const r = await run(['tritonserver', '--model-store=/mnt/models', '--grpc-port=9000', '--http-port=8080', '--allow-grpc=true', '--allow-http=true']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.opts).toMatchObject({ modelStore: '/mnt/models', grpcPort: 9000, httpPort: 8080, metricsPort: 8002 });
  });

  it("serves the seed's docker command line, several repositories, and Triton's boolean spellings", async () => {
    const r = await run([
      '/opt/tritonserver/bin/tritonserver',
      '--model-repository=/models',
      '--model-repository',
      '/more',
      '--strict-readiness=false',
      '--allow-metrics=false',
      '--allow-grpc=0',
    ]);
    expect(r.code).toBe(0);
    expect(r.opts).toMatchObject({ modelStore: ['/models', '/more'], strictReadiness: false, metricsPort: undefined, grpcPort: undefined, httpPort: 8000 });
  });

  it('warns once about ignored flags and still serves', async () => {
    const r = await run(['tritonserver', '--model-store=/m', '--log-info=true', '--backend-directory=/opt/b']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('ofserve: warning: ignoring tritonserver flags that do not apply to ofserve: --log-info, --backend-directory');
    expect(calls).toHaveLength(1);
  });

  it('refuses an unimplemented behaviour flag with exit code 2 and does not start', async () => {
    const r = await run(['tritonserver', '--model-store=/m', '--model-namespacing=true']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('tritonserver flag --model-namespacing=true is not supported');
    expect(calls).toHaveLength(0);
  });

  it('a bad boolean is reported by serve, naming the flag', async () => {
    const r = await run(['tritonserver', '--allow-grpc=maybe']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--allow-grpc.*expected true or false, got 'maybe'/s);
  });

  it('serve itself keeps its default repository', async () => {
    const r = await run(['serve']);
    expect(r.opts).toMatchObject({ modelStore: 'model_repository' });
  });
});
