import { DEFAULT_JSON_LIMITS, DEFAULT_MAX_JSON_BYTES } from '../../protocol/json-limits.js';

/**
 * What one HTTP request may cost: each field is one `ofserve serve` flag (named beside it), so a
 * limit error can tell the user which flag to raise.
 */
export interface HttpLimits {
  /** --http-max-body: an infer request body, after decompression too. */
  readonly maxBody: number;
  /** --http-max-json: the JSON part of an infer request (the whole body when no binary data follows). */
  readonly maxJson: number;
  /** --http-max-json-depth */
  readonly maxJsonDepth: number;
  /** --http-max-json-values */
  readonly maxJsonValues: number;
  /** --http-max-control-body: any other route's body (repository index/load/unload, …). */
  readonly maxControlBody: number;
  /** --http-max-response-body: an infer response body, before compression. */
  readonly maxResponse: number;
  /** --http-request-timeout-secs: headers and body must arrive within this, or 408. */
  readonly requestTimeoutMs: number;
  /** --http-body-timeout-secs: longest pause while a body arrives, or 408. */
  readonly bodyTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxBody: 256 * 1024 * 1024,
  maxJson: DEFAULT_MAX_JSON_BYTES,
  maxJsonDepth: DEFAULT_JSON_LIMITS.maxDepth,
  maxJsonValues: DEFAULT_JSON_LIMITS.maxValues,
  // A load request carries at most a config JSON (file: overrides are refused by this server).
  maxControlBody: 1024 * 1024,
  maxResponse: 256 * 1024 * 1024,
  requestTimeoutMs: 300_000,
  bodyTimeoutMs: 30_000,
};
