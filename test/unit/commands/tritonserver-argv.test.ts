import { describe, expect, it } from 'vitest';
import { isOfsError } from '../../../src/errors.js';
import { isTritonserverInvocation, translateTritonserverArgv } from '../../../src/commands/tritonserver-argv.js';

const SERVE = new Set(['--model-store', '--http-port', '--grpc-port', '--metrics-port', '--allow-http', '--allow-grpc', '--allow-metrics', '--strict-readiness', '--log-verbose']);
const t = (args: string[]) => translateTritonserverArgv(args, SERVE);
const refusal = (args: string[]): string => {
  try {
    t(args);
  } catch (e) {
    if (isOfsError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  throw new Error(`accepted: ${args.join(' ')}`);
};

describe('isTritonserverInvocation', () => {
  it('recognises the bare name and the path in Triton images', () => {
    expect(isTritonserverInvocation('tritonserver')).toBe(true);
    expect(isTritonserverInvocation('/opt/tritonserver/bin/tritonserver')).toBe(true);
    expect(isTritonserverInvocation('serve')).toBe(false);
    expect(isTritonserverInvocation('tritonserver2')).toBe(false);
    expect(isTritonserverInvocation(undefined)).toBe(false);
  });
});

describe('translateTritonserverArgv', () => {
  it("passes KServe's command line through unchanged in meaning", () => {
    const r = t(['--model-store=/mnt/models', '--grpc-port=9000', '--http-port=8080', '--allow-grpc=true', '--allow-http=true']);
    expect(r.argv).toEqual(['serve', '--model-store=/mnt/models', '--grpc-port=9000', '--http-port=8080', '--allow-grpc=true', '--allow-http=true']);
    expect(r.warning).toBeUndefined();
  });

  it('reads the value from the next argument too, and --model-repository as --model-store (repeatable)', () => {
    const r = t(['--model-repository', '/a', '--model-repository=/b', '--strict-readiness', 'false']);
    expect(r.argv).toEqual(['serve', '--model-store=/a', '--model-store=/b', '--strict-readiness=false']);
  });

  it('drops flags that only tune Triton internals, with one warning naming each once', () => {
    const r = t(['--model-store=/m', '--log-info=true', '--backend-directory', '/opt/b', '--log-info=false', '--disable-auto-complete-config']);
    expect(r.argv).toEqual(['serve', '--model-store=/m']);
    expect(r.warning).toBe('ignoring tritonserver flags that do not apply to ofserve: --log-info, --backend-directory, --disable-auto-complete-config');
  });

  it('a flag without a value consumes nothing when it takes none', () => {
    expect(t(['--disable-auto-complete-config', '--http-port=1']).argv).toEqual(['serve', '--http-port=1']);
  });

  it('refuses behaviour-changing flags it does not implement, naming flag and reason', () => {
    expect(refusal(['--trace-config', 'level=TIMESTAMPS'])).toBe(
      'OFS_BAD_ARGUMENT: tritonserver flag --trace-config=level=TIMESTAMPS is not supported: ofserve does not write traces',
    );
    expect(refusal(['--allow-sagemaker=true'])).toMatch(/--allow-sagemaker=true is not supported: ofserve has no SageMaker endpoint/);
    expect(refusal(['--model-namespacing=true'])).toMatch(/--model-namespacing=true is not supported/);
  });

  it("accepts those flags at the value ofserve already behaves as (Triton's default)", () => {
    expect(t(['--allow-sagemaker=false', '--rate-limit=off', '--trace-level=OFF']).argv).toEqual(['serve']);
  });

  it('refuses flags tritonserver does not have, positional arguments and a missing value', () => {
    expect(refusal(['--no-such-flag=1'])).toMatch(/unknown tritonserver flag --no-such-flag/);
    expect(refusal(['/models'])).toMatch(/takes no positional argument, got '\/models'/);
    expect(refusal(['--http-port'])).toMatch(/--http-port needs a value/);
  });

  it('lets serve judge the values (so its messages name the flag)', () => {
    expect(t(['--allow-grpc=maybe']).argv).toEqual(['serve', '--allow-grpc=maybe']);
  });
});
