import { constants as bufferConstants } from 'node:buffer';
import { ofsError } from '../errors.js';

/**
 * The numeric flags of `ofserve serve`, checked before anything loads: each must be a number in its
 * range, and every bad one is reported at once, naming the flag (OFS_BAD_ARGUMENT: exit code 2).
 * Ranges follow what the value feeds: zlib's maxOutputLength and Buffer sizes stop at
 * buffer.constants.MAX_LENGTH, a JSON text at the longest string V8 builds, a timer at 2^31 ms.
 */

export interface ServeNumbers {
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly metricsPort: number;
  readonly repositoryPollSecs: number;
  readonly logVerbose: number;
  readonly httpMaxBody: number;
  readonly httpMaxJson: number;
  readonly httpMaxJsonDepth: number;
  readonly httpMaxJsonValues: number;
  readonly httpMaxControlBody: number;
  readonly httpMaxResponseBody: number;
  readonly httpRequestTimeoutSecs: number;
  readonly httpBodyTimeoutSecs: number;
}

/** As commander hands them over: the typed default, or the text the user wrote. */
export type RawServeNumbers = { readonly [K in keyof ServeNumbers]: string | number };

interface Rule {
  readonly flag: string;
  /** Whole numbers only (everything but the timeouts). */
  readonly integer: boolean;
  readonly min: number;
  readonly max: number;
  readonly unit?: string;
}

const MAX_TIMER_SECS = Math.floor((2 ** 31 - 1) / 1000);

export const SERVE_NUMBER_RULES: { readonly [K in keyof ServeNumbers]: Rule } = {
  httpPort: { flag: '--http-port', integer: true, min: 0, max: 65535 },
  grpcPort: { flag: '--grpc-port', integer: true, min: 0, max: 65535 },
  metricsPort: { flag: '--metrics-port', integer: true, min: 0, max: 65535 },
  repositoryPollSecs: { flag: '--repository-poll-secs', integer: true, min: 1, max: MAX_TIMER_SECS, unit: 'seconds' },
  logVerbose: { flag: '--log-verbose', integer: true, min: 0, max: 1000 },
  httpMaxBody: { flag: '--http-max-body', integer: true, min: 1, max: bufferConstants.MAX_LENGTH, unit: 'bytes' },
  httpMaxJson: { flag: '--http-max-json', integer: true, min: 1, max: bufferConstants.MAX_STRING_LENGTH, unit: 'bytes' },
  httpMaxJsonDepth: { flag: '--http-max-json-depth', integer: true, min: 1, max: 100_000 },
  httpMaxJsonValues: { flag: '--http-max-json-values', integer: true, min: 1, max: 2 ** 31 - 1 },
  httpMaxControlBody: { flag: '--http-max-control-body', integer: true, min: 1, max: bufferConstants.MAX_LENGTH, unit: 'bytes' },
  httpMaxResponseBody: { flag: '--http-max-response-body', integer: true, min: 1, max: Number.MAX_SAFE_INTEGER, unit: 'bytes' },
  httpRequestTimeoutSecs: { flag: '--http-request-timeout-secs', integer: false, min: 0.001, max: MAX_TIMER_SECS, unit: 'seconds' },
  httpBodyTimeoutSecs: { flag: '--http-body-timeout-secs', integer: false, min: 0.001, max: MAX_TIMER_SECS, unit: 'seconds' },
};

/** The problem with one value, or undefined when it is fine. */
function problem(rule: Rule, raw: string | number): string | undefined {
  const text = String(raw).trim();
  const pattern = rule.integer ? /^[+-]?\d+$/ : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  const value = pattern.test(text) ? Number(text) : Number.NaN;
  const range = `${rule.integer ? 'an integer' : 'a number'} from ${rule.min} to ${rule.max}${rule.unit ? ` (${rule.unit})` : ''}`;
  if (Number.isNaN(value) || value < rule.min || value > rule.max) return `${rule.flag} must be ${range}, got '${text}'`;
  return undefined;
}

export function checkServeNumbers(raw: RawServeNumbers): ServeNumbers {
  const problems: string[] = [];
  const out: Record<string, number> = {};
  for (const key of Object.keys(SERVE_NUMBER_RULES) as (keyof ServeNumbers)[]) {
    const p = problem(SERVE_NUMBER_RULES[key], raw[key]);
    if (p) problems.push(p);
    else out[key] = Number(String(raw[key]).trim());
  }
  if (problems.length > 0) throw ofsError('OFS_BAD_ARGUMENT', problems.join('; '));
  return out as unknown as ServeNumbers;
}
