import { describe, expect, it } from 'vitest';
import { isOfsError } from '../../../src/errors.js';
import { checkServeNumbers, SERVE_NUMBER_RULES, type RawServeNumbers } from '../../../src/commands/serve-flags.js';

const defaults: RawServeNumbers = {
  httpPort: 8000,
  grpcPort: 8001,
  metricsPort: 8002,
  repositoryPollSecs: 15,
  logVerbose: 0,
  httpMaxBody: 256 * 1024 * 1024,
  httpMaxJson: 64 * 1024 * 1024,
  httpMaxJsonDepth: 64,
  httpMaxJsonValues: 1_000_000,
  httpMaxControlBody: 1024 * 1024,
  httpMaxResponseBody: 256 * 1024 * 1024,
  httpRequestTimeoutSecs: 300,
  httpBodyTimeoutSecs: 30,
};

function messageOf(raw: Partial<RawServeNumbers>): string {
  try {
    checkServeNumbers({ ...defaults, ...raw });
  } catch (e) {
    expect(isOfsError(e) && e.code).toBe('OFS_BAD_ARGUMENT');
    return (e as Error).message;
  }
  return '';
}

describe('checkServeNumbers', () => {
  it('takes the defaults and typed text', () => {
    expect(checkServeNumbers(defaults)).toEqual(defaults);
    expect(checkServeNumbers({ ...defaults, httpPort: '0', httpMaxBody: ' 4096 ', httpBodyTimeoutSecs: '0.5' })).toMatchObject({
      httpPort: 0,
      httpMaxBody: 4096,
      httpBodyTimeoutSecs: 0.5,
    });
  });

  it('refuses zero, negative, fractional and non-numeric sizes, naming the flag and the range', () => {
    expect(messageOf({ httpMaxBody: '0' })).toBe("--http-max-body must be an integer from 1 to 4294967296 (bytes), got '0'");
    expect(messageOf({ httpMaxBody: '-1' })).toMatch(/^--http-max-body must be/);
    expect(messageOf({ httpMaxJson: '1.5' })).toMatch(/^--http-max-json must be an integer/);
    expect(messageOf({ httpMaxJsonValues: 'lots' })).toMatch(/^--http-max-json-values must be/);
    expect(messageOf({ httpRequestTimeoutSecs: '0' })).toMatch(/^--http-request-timeout-secs must be a number from 0.001/);
    expect(messageOf({ httpBodyTimeoutSecs: 'NaN' })).toMatch(/^--http-body-timeout-secs/);
    expect(messageOf({ httpPort: '65536' })).toMatch(/^--http-port must be an integer from 0 to 65535/);
    expect(messageOf({ repositoryPollSecs: '0' })).toMatch(/^--repository-poll-secs/);
  });

  it('refuses sizes beyond what zlib and Buffer accept', () => {
    expect(messageOf({ httpMaxBody: String(2 ** 32 + 1) })).toMatch(/--http-max-body must be an integer from 1 to 4294967296/);
    expect(messageOf({ httpMaxControlBody: '1e20' })).toMatch(/--http-max-control-body/);
    expect(messageOf({ httpMaxJson: String(2 ** 30) })).toMatch(/--http-max-json must be an integer from 1 to 536870888/);
  });

  it('reports every bad flag at once', () => {
    const m = messageOf({ httpMaxBody: '0', grpcPort: '-5', httpMaxJsonDepth: '0' });
    expect(m.split('; ')).toHaveLength(3);
    for (const flag of ['--http-max-body', '--grpc-port', '--http-max-json-depth']) expect(m).toContain(flag);
  });

  it('has a rule, with a flag name, for every number', () => {
    for (const [key, rule] of Object.entries(SERVE_NUMBER_RULES)) {
      expect(rule.flag, key).toMatch(/^--[a-z-]+$/);
      expect(rule.min, key).toBeLessThanOrEqual(rule.max);
    }
  });
});
