import { beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * The flag surface users bring from tritonserver and perf_analyzer, checked at the boundary between
 * commander and the command functions (which are mocked: their own tests cover what they do).
 */

const calls: Record<string, unknown[]> = {};
const record = (name: string) => async (opts: unknown) => {
  (calls[name] ??= []).push(opts);
  if (name === 'serve') return { closed: Promise.resolve() };
  if (name === 'validate') return { ok: false, problems: [] };
  return {};
};

vi.mock('../../src/commands/serve.js', () => ({ serve: record('serve') }));
vi.mock('../../src/commands/perf.js', async () => {
  const actual = await vi.importActual<typeof import('../../src/commands/perf.js')>('../../src/commands/perf.js');
  return { perf: record('perf'), formatPerfSettings: () => 'perf settings', formatPerfLevel: () => 'perf level', formatPerfSummary: () => 'perf report', parseShapeArgs: actual.parseShapeArgs };
});
vi.mock('../../src/commands/convert.js', () => ({ convert: record('convert'), formatConvertReport: () => 'convert report' }));
vi.mock('../../src/commands/validate.js', () => ({ validate: record('validate'), formatValidateReport: () => 'validate report' }));
vi.mock('../../src/commands/classify.js', async () => {
  const { ofsError } = await import('../../src/errors.js');
  return {
    classify: async () => {
      throw ofsError('OFS_IMAGE_UNREADABLE', 'nope.jpg', 'no such file');
    },
    formatClassifyTable: () => '',
  };
});

const { main } = await import('../../src/cli.js');

function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  process.exitCode = undefined;
  return main(['node', 'ofserve', ...args], { stdout: (t) => out.push(t), stderr: (t) => err.push(t) }).then(() => ({
    code: process.exitCode ?? 0,
    out: out.join('\n'),
    err: err.join('\n'),
  }));
}

beforeEach(() => {
  for (const k of Object.keys(calls)) delete calls[k];
});

describe('ofserve CLI flags', () => {
  it("serve takes tritonserver's flag names, --model-repository as an alias and --flag=value booleans", async () => {
    const r = await run([
      'serve', '--model-repository=/models', '--http-port', '9000', '--grpc-port=9001', '--metrics-port', '9002',
      '--model-control-mode', 'explicit', '--load-model', 'a', '--load-model', 'b', '--repository-poll-secs', '5',
      '--exit-on-error=false', '--strict-readiness', 'false', '--log-verbose', '1',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(calls.serve?.[0]).toMatchObject({
      modelStore: '/models', httpPort: 9000, grpcPort: 9001, metricsPort: 9002, controlMode: 'explicit',
      loadModels: ['a', 'b'], pollSecs: 5, exitOnError: false, strictReadiness: false, logVerbose: 1,
    });
  });

  it("serve takes tritonserver's --cache-config (both spellings, repeatable) and lists it in --help", async () => {
    const r = await run(['serve', '--cache-config=local,size=1048576', '--cache-config', 'local,size=2048']);
    expect(r.code, r.err).toBe(0);
    expect(calls.serve?.[0]).toMatchObject({ cacheConfig: ['local,size=1048576', 'local,size=2048'] });
    const help = await run(['serve', '--help']);
    expect(help.out + help.err).toContain('--cache-config');
  });

  it('serve takes --exit-timeout-secs (tritonserver, default 30) and --grpc-max-message-bytes', async () => {
    await run(['serve', '--model-store', 'm']);
    expect(calls.serve?.[0]).toMatchObject({ exitTimeoutSecs: 30, grpcMaxMessageBytes: undefined });
    const r = await run(['serve', '--model-store', 'm', '--exit-timeout-secs', '5', '--grpc-max-message-bytes', '1048576']);
    expect(r.code, r.err).toBe(0);
    expect(calls.serve?.[1]).toMatchObject({ exitTimeoutSecs: 5, grpcMaxMessageBytes: 1048576 });
    expect((await run(['serve', '--exit-timeout-secs', 'soon'])).code).toBe(2);
  });

  it('serve --allow-grpc false turns the endpoint off', async () => {
    await run(['serve', '--model-store', 'm', '--allow-grpc', 'false']);
    expect(calls.serve?.[0]).toMatchObject({ modelStore: 'm', httpPort: 8000, grpcPort: undefined, metricsPort: 8002 });
  });

  it("perf takes perf_analyzer's short and long flags", async () => {
    const r = await run(['perf', '-m', 'resnet', '-u', 'host:8000', '-i', 'http', '-b', '4', '--concurrency-range', '1:4:1', '--request-count', '50', '--measurement-interval', '2000']);
    expect(r.code, r.err).toBe(0);
    expect(calls.perf?.[0]).toMatchObject({ model: 'resnet', url: 'host:8000', protocol: 'http', batchSize: 4, concurrencyRange: '1:4:1', requestCount: 50, measurementIntervalMs: 2000 });
  });

  it("perf takes perf_analyzer's -p for the measurement interval", async () => {
    const r = await run(['perf', '-m', 'resnet', '-p', '1500']);
    expect(r.code, r.err).toBe(0);
    expect(calls.perf?.[0]).toMatchObject({ measurementIntervalMs: 1500 });
  });

  it("perf takes perf_analyzer's repeatable --shape NAME:dims, which its variable-dims error asks for", async () => {
    const r = await run(['perf', '-m', 'm', '--shape', 'INPUT_0:3,224,224', '--shape', 'a:b:7']);
    expect(r.code, r.err).toBe(0);
    expect(calls.perf?.[0]).toMatchObject({ shapes: { INPUT_0: [3, 224, 224], 'a:b': [7] } });
    const bad = await run(['perf', '-m', 'm', '--shape', 'INPUT_0']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--shape');
  });

  it('serve --load-model without explicit mode is a usage error, as in tritonserver', async () => {
    const r = await run(['serve', '--load-model', 'a']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--model-control-mode=explicit');
    expect(calls.serve).toBeUndefined();
  });

  it('no command prints the help and exits 2', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('Usage: ofserve');
  });

  it('validate exits 1 when the repository has errors', async () => {
    const r = await run(['validate', '--model-store', 'x']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('validate report');
  });

  it('a user mistake prints the message and the fix, exit 1, no stack', async () => {
    const r = await run(['classify', 'nope.jpg']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('ofserve: error: cannot read image nope.jpg: no such file');
    expect(r.err).toContain('fix:');
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('bad usage exits 2 with the help hint', async () => {
    expect((await run(['serve', '--http-port', 'eighty'])).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run(['serve', '--model-control-mode', 'sometimes'])).code).toBe(2);
  });

  it('serve refuses a zero, negative or oversized limit before anything loads: exit 2, naming the flag', async () => {
    for (const [flag, value] of [['--http-max-body', '0'], ['--http-max-body', '-1'], ['--http-max-body', '9999999999999'],
      ['--http-max-json', '1e3'], ['--http-port', '70000'], ['--http-request-timeout-secs', '0'], ['--http-body-timeout-secs', 'soon']]) {
      const r = await run(['serve', flag, value]);
      expect(r.code, `${flag} ${value}`).toBe(2);
      expect(r.err, `${flag} ${value}`).toContain(`${flag} must be`);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    expect(calls.serve).toBeUndefined();
    const both = await run(['serve', '--http-max-body', '0', '--grpc-port', '-5']);
    expect(both.err).toContain('--http-max-body must be');
    expect(both.err).toContain('--grpc-port must be');
  });

  it('serve passes the HTTP limits and timeouts on', async () => {
    const r = await run([
      'serve', '--http-max-body', '1000', '--http-max-json', '500', '--http-max-json-depth', '8', '--http-max-json-values', '99',
      '--http-max-control-body', '300', '--http-max-response-body', '4000', '--http-request-timeout-secs', '2.5', '--http-body-timeout-secs', '1',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(calls.serve?.[0]).toMatchObject({
      bodyLimit: 1000,
      httpLimits: { maxJson: 500, maxJsonDepth: 8, maxJsonValues: 99, maxControlBody: 300, maxResponse: 4000, requestTimeoutMs: 2500, bodyTimeoutMs: 1000 },
    });
  });

  it('convert passes --quantize, --calibration, --calibration-method and --normalize on, and refuses an unknown method', async () => {
    const r = await run(['convert', 'm.onnx', '-o', 'q.onnx', '--quantize', 'int8', '--calibration', 'imgs', '--calibration-method', 'entropy', '--normalize', 'imagenet']);
    expect(r.code, r.err).toBe(0);
    expect(calls.convert?.[0]).toMatchObject({ modelDir: 'm.onnx', output: 'q.onnx', quantize: 'int8', calibration: 'imgs', calibrationMethod: 'entropy', normalize: 'imagenet' });
    const bad = await run(['convert', 'm.onnx', '-o', 'q.onnx', '--quantize', 'int8', '--calibration', 'imgs', '--calibration-method', 'mse']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--calibration-method');
    const int4 = await run(['convert', 'm.onnx', '-o', 'q.onnx', '--quantize', 'int4']);
    expect(int4.code).toBe(2);
    expect(int4.err).toContain('--quantize');
  });

  it('--help and --version exit 0', async () => {
    expect((await run(['--help'])).code).toBe(0);
    expect((await run(['--version'])).code).toBe(0);
  });
});
