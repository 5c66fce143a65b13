/**
 * What one JSON request body may cost the server before JSON.parse builds it: nesting depth and the
 * number of values built as JS objects. Numbers and booleans of an infer input's `data` are decoded
 * straight into tensor bytes (json-scan.ts) and do not count. The flags named in errors are
 * `ofserve serve`'s.
 */

export interface JsonLimits {
  /** Deepest nesting of objects and arrays (a numeric `data` array's own nesting is exempt). */
  readonly maxDepth: number;
  /** Most values (objects, arrays, strings, numbers, literals) that JSON.parse may build. */
  readonly maxValues: number;
}

export const JSON_BYTES_FLAG = '--http-max-json';
export const JSON_DEPTH_FLAG = '--http-max-json-depth';
export const JSON_VALUES_FLAG = '--http-max-json-values';

/**
 * A legal infer request nests about 4 + the tensor rank; a load request's config a few more. A
 * million values as JS objects is some tens of MB of heap at worst.
 */
export const DEFAULT_JSON_LIMITS: JsonLimits = { maxDepth: 64, maxValues: 1_000_000 };

/** The JSON part of an infer request (the whole body without binary data) is at most this long. */
export const DEFAULT_MAX_JSON_BYTES = 64 * 1024 * 1024;
