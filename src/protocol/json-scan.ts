import { setImmediate as nextTurn } from 'node:timers/promises';
import { parseJsonExact } from './json-exact.js';
import { ofsError } from '../errors.js';
import { JSON_DEPTH_FLAG, JSON_VALUES_FLAG, type JsonLimits } from './json-limits.js';

/**
 * A pre-scan of JSON bytes that bounds what JSON.parse will build, before it runs: nesting depth and
 * value count (every `{`, `[`, string and scalar token counts, so the count bounds what JSON.parse
 * builds even for a body that turns out invalid half-way). With `dataSpans`, the `data` arrays of
 * infer inputs (`inputs[i].data` of the root object) that hold only numbers and booleans are left
 * out of the parse: they become `[]` in the text handed to JSON.parse and are decoded straight into
 * tensor bytes later (json-span.ts), so a 100 MB number array never becomes a JS array. Such a
 * span's own nesting is only row-major grouping and is exempt from the depth limit.
 *
 * The scan works in slices and yields to the event loop between them, so one large body does not
 * stall every other connection.
 */

/** A numeric/boolean `data` array left in the bytes. */
export interface DataSpan {
  /** Offset of the opening `[`. */
  readonly start: number;
  /** Offset just past the matching `]`. */
  readonly end: number;
  /** Elements (numbers and booleans), any nesting flattened. */
  readonly count: number;
}

export interface ScannedJson {
  /** The JSON text with every data span replaced by `[]`. */
  readonly text: string;
  /** The span that is the `data` of `inputs[i]`, by i (the last `data`/`inputs` key wins, as in JSON.parse). */
  readonly spans: ReadonlyMap<number, DataSpan>;
}

export interface ScanOptions {
  /** Leave numeric `inputs[i].data` arrays out of the text (infer requests). */
  readonly dataSpans?: boolean;
  /** Bytes scanned between yields to the event loop. */
  readonly sliceBytes?: number;
}

const DEFAULT_SLICE = 4 * 1024 * 1024;

const KEY_OTHER = 0;
const KEY_INPUTS = 1;
const KEY_DATA = 2;

const INPUTS = Buffer.from('inputs');
const DATA = Buffer.from('data');

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Ends a scalar token (number, literal, or junk that JSON.parse will reject). */
function isDelimiter(c: number): boolean {
  return isSpace(c) || c === 0x2c || c === 0x3a || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d || c === 0x22;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Offset after the closing quote of the string opening at p, or `end` when it is unterminated. */
function stringEnd(b: Uint8Array, p: number, end: number): number {
  let i = p + 1;
  while (i < end) {
    const c = b[i];
    if (c === 0x22) return i + 1;
    i += c === 0x5c ? 2 : 1;
  }
  return end;
}

/**
 * Offset after a number that follows JSON's grammar exactly (-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?),
 * or -1 when it does not. What follows is the caller's business.
 */
export function numberEnd(b: Uint8Array, p: number, end: number): number {
  let i = p;
  if (i < end && b[i] === 0x2d) i++;
  if (i >= end) return -1;
  if (b[i] === 0x30) i++;
  else if (b[i] >= 0x31 && b[i] <= 0x39) while (i < end && isDigit(b[i])) i++;
  else return -1;
  if (i < end && b[i] === 0x2e) {
    i++;
    if (i >= end || !isDigit(b[i])) return -1;
    while (i < end && isDigit(b[i])) i++;
  }
  if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
    i++;
    if (i < end && (b[i] === 0x2b || b[i] === 0x2d)) i++;
    if (i >= end || !isDigit(b[i])) return -1;
    while (i < end && isDigit(b[i])) i++;
  }
  return i;
}

function literalAt(b: Uint8Array, p: number, end: number, word: string): boolean {
  if (p + word.length > end) return false;
  for (let k = 0; k < word.length; k++) if (b[p + k] !== word.charCodeAt(k)) return false;
  return true;
}

function sameBytes(b: Uint8Array, from: number, to: number, word: Uint8Array): boolean {
  if (to - from !== word.length) return false;
  for (let k = 0; k < word.length; k++) if (b[from + k] !== word[k]) return false;
  return true;
}

/** Which key a raw string token (quotes included) is; escaped spellings of the two keys count too. */
function keyKind(b: Uint8Array, p: number, q: number): number {
  const from = p + 1;
  const to = q - 1;
  let escaped = false;
  for (let i = from; i < to; i++) if (b[i] === 0x5c) escaped = true;
  if (!escaped) {
    if (sameBytes(b, from, to, INPUTS)) return KEY_INPUTS;
    if (sameBytes(b, from, to, DATA)) return KEY_DATA;
    return KEY_OTHER;
  }
  // "\u0069nputs" is "inputs" to JSON.parse; at most 6 bytes per character, so longer keys are neither.
  if (to - from > 6 * INPUTS.length) return KEY_OTHER;
  try {
    const key = JSON.parse(Buffer.from(b.buffer, b.byteOffset + p, q - p).toString('utf8')) as unknown;
    return key === 'inputs' ? KEY_INPUTS : key === 'data' ? KEY_DATA : KEY_OTHER;
  } catch {
    return KEY_OTHER;
  }
}

class Scanner {
  readonly #b: Uint8Array;
  readonly #end: number;
  readonly #limits: JsonLimits;
  readonly #dataSpans: boolean;
  #pos = 0;
  #values = 0;
  #depth = 0;
  // Per open container (index = depth - 1): object?, waiting for a key?, last key, array index.
  readonly #isObject: Uint8Array;
  readonly #awaitingKey: Uint8Array;
  readonly #key: Uint8Array;
  readonly #index: Float64Array;
  /** Every span found, in order: all are cut from the text, whether or not a later key replaced it. */
  readonly #allSpans: DataSpan[] = [];
  readonly spans = new Map<number, DataSpan>();
  // Inside a candidate span: its start, bracket depth, elements, and whether a value may come next.
  #inSpan = false;
  #spanStart = 0;
  #spanDepth = 0;
  #spanCount = 0;
  #spanExpectValue = false;
  #spanAfterOpen = false;
  #spanInput = 0;
  /** A `[` whose span attempt failed: scanned again as an ordinary array. */
  #noSpanAt = -1;

  constructor(bytes: Uint8Array, limits: JsonLimits, dataSpans: boolean) {
    this.#b = bytes;
    this.#end = bytes.length;
    this.#limits = limits;
    this.#dataSpans = dataSpans;
    const frames = Math.min(limits.maxDepth, 1 << 20) + 1;
    this.#isObject = new Uint8Array(frames);
    this.#awaitingKey = new Uint8Array(frames);
    this.#key = new Uint8Array(frames);
    this.#index = new Float64Array(frames);
  }

  get done(): boolean {
    return this.#pos >= this.#end && !this.#inSpan;
  }

  #value(): void {
    if (++this.#values > this.#limits.maxValues) {
      throw ofsError('OFS_REQUEST_TOO_LARGE', 'the number of values in the request JSON', String(this.#limits.maxValues), JSON_VALUES_FLAG);
    }
  }

  #push(object: boolean): void {
    if (this.#depth >= this.#limits.maxDepth) {
      throw ofsError('OFS_REQUEST_TOO_LARGE', 'the nesting depth of the request JSON', String(this.#limits.maxDepth), JSON_DEPTH_FLAG);
    }
    const d = this.#depth++;
    this.#isObject[d] = object ? 1 : 0;
    this.#awaitingKey[d] = object ? 1 : 0;
    this.#key[d] = KEY_OTHER;
    this.#index[d] = 0;
  }

  /** At the value of `data` in an element of the root object's `inputs` array. */
  #atInputData(): boolean {
    return (
      this.#depth === 3 &&
      this.#isObject[2] === 1 &&
      this.#awaitingKey[2] === 0 &&
      this.#key[2] === KEY_DATA &&
      this.#isObject[1] === 0 &&
      this.#isObject[0] === 1 &&
      this.#key[0] === KEY_INPUTS
    );
  }

  /** Scans up to `budget` more bytes (finishing the token at hand). */
  run(budget: number): void {
    const b = this.#b;
    const end = this.#end;
    let p = this.#pos;
    const stop = Math.min(end, p + budget);
    while (p < stop || (p >= end && this.#inSpan)) {
      if (this.#inSpan) {
        p = this.#spanRun(p, stop);
        continue;
      }
      const c = b[p];
      if (isSpace(c)) {
        p++;
        continue;
      }
      switch (c) {
        case 0x7b: // {
          this.#value();
          this.#push(true);
          p++;
          break;
        case 0x5b: // [
          this.#value();
          if (this.#dataSpans && p !== this.#noSpanAt && this.#atInputData()) {
            this.#inSpan = true;
            this.#spanStart = p;
            this.#spanDepth = 1;
            this.#spanCount = 0;
            this.#spanExpectValue = true;
            this.#spanAfterOpen = true;
            this.#spanInput = this.#index[1];
          } else {
            this.#push(false);
          }
          p++;
          break;
        case 0x7d: // }
        case 0x5d: // ]
          // A stray closer makes the JSON invalid; JSON.parse reports it.
          if (this.#depth > 0) this.#depth--;
          p++;
          break;
        case 0x22: {
          // Keys count too: on invalid input JSON.parse's idea of key and value may differ from ours.
          this.#value();
          const q = stringEnd(b, p, end);
          const d = this.#depth - 1;
          if (d >= 0 && this.#isObject[d] === 1 && this.#awaitingKey[d] === 1) {
            const kind = keyKind(b, p, q);
            this.#key[d] = kind;
            // A repeated key replaces the earlier value in JSON.parse; so do the spans.
            if (d === 0 && kind === KEY_INPUTS) this.spans.clear();
            if (d === 2 && kind === KEY_DATA && this.#isObject[1] === 0 && this.#key[0] === KEY_INPUTS) {
              this.spans.delete(this.#index[1]);
            }
          }
          p = q;
          break;
        }
        case 0x3a: // :
          if (this.#depth > 0) this.#awaitingKey[this.#depth - 1] = 0;
          p++;
          break;
        case 0x2c: {
          // ,
          const d = this.#depth - 1;
          if (d >= 0) {
            if (this.#isObject[d] === 1) {
              this.#awaitingKey[d] = 1;
              this.#key[d] = KEY_OTHER;
            } else {
              this.#index[d] += 1;
            }
          }
          p++;
          break;
        }
        default:
          this.#value();
          p++;
          while (p < end && !isDelimiter(b[p])) p++;
      }
    }
    this.#pos = p;
  }

  /** Advances inside a candidate span; on anything but numbers, booleans, commas and brackets, gives up on it. */
  #spanRun(start: number, stop: number): number {
    const b = this.#b;
    const end = this.#end;
    let p = start;
    let depth = this.#spanDepth;
    let count = this.#spanCount;
    let expectValue = this.#spanExpectValue;
    let afterOpen = this.#spanAfterOpen;
    let failed = false;
    let closed = false;
    while (p < stop) {
      const c = b[p];
      if (isSpace(c)) {
        p++;
      } else if (c === 0x2c) {
        if (expectValue) {
          failed = true;
          break;
        }
        expectValue = true;
        afterOpen = false;
        p++;
      } else if (c === 0x5d) {
        if (expectValue && !afterOpen) {
          failed = true;
          break;
        }
        depth--;
        expectValue = false;
        afterOpen = false;
        p++;
        if (depth === 0) {
          closed = true;
          break;
        }
      } else if (c === 0x5b) {
        if (!expectValue) {
          failed = true;
          break;
        }
        depth++;
        afterOpen = true;
        p++;
      } else if (expectValue && (c === 0x2d || isDigit(c))) {
        const q = numberEnd(b, p, end);
        if (q < 0) {
          failed = true;
          break;
        }
        p = q;
        count++;
        expectValue = false;
        afterOpen = false;
      } else if (expectValue && c === 0x74 && literalAt(b, p, end, 'true')) {
        p += 4;
        count++;
        expectValue = false;
        afterOpen = false;
      } else if (expectValue && c === 0x66 && literalAt(b, p, end, 'false')) {
        p += 5;
        count++;
        expectValue = false;
        afterOpen = false;
      } else {
        failed = true;
        break;
      }
    }
    if (!failed && !closed && p >= end) failed = true;
    if (failed) {
      this.#inSpan = false;
      this.#noSpanAt = this.#spanStart;
      // The `[` was counted as a value when the span began; it is counted again when rescanned.
      this.#values -= 1;
      return this.#spanStart;
    }
    if (closed) {
      this.#inSpan = false;
      const span: DataSpan = { start: this.#spanStart, end: p, count };
      this.#allSpans.push(span);
      this.spans.set(this.#spanInput, span);
      return p;
    }
    this.#spanDepth = depth;
    this.#spanCount = count;
    this.#spanExpectValue = expectValue;
    this.#spanAfterOpen = afterOpen;
    return p;
  }

  /** The text for JSON.parse: the bytes with every span cut to `[]`. */
  text(): string {
    const spans = this.#allSpans;
    if (spans.length === 0) return Buffer.from(this.#b.buffer, this.#b.byteOffset, this.#b.length).toString('utf8');
    const parts: Buffer[] = [];
    const empty = Buffer.from('[]');
    let at = 0;
    for (const s of spans) {
      parts.push(Buffer.from(this.#b.buffer, this.#b.byteOffset + at, s.start - at), empty);
      at = s.end;
    }
    parts.push(Buffer.from(this.#b.buffer, this.#b.byteOffset + at, this.#b.length - at));
    return Buffer.concat(parts).toString('utf8');
  }
}

/** Scans in one go: for small bodies (control routes) and tests. */
export function scanJsonSync(bytes: Uint8Array, limits: JsonLimits, options: ScanOptions = {}): ScannedJson {
  const s = new Scanner(bytes, limits, options.dataSpans ?? false);
  while (!s.done) s.run(Number.MAX_SAFE_INTEGER);
  return { text: s.text(), spans: s.spans };
}

/** Scans in slices, yielding to the event loop between them. */
export async function scanJson(bytes: Uint8Array, limits: JsonLimits, options: ScanOptions = {}): Promise<ScannedJson> {
  const slice = options.sliceBytes ?? DEFAULT_SLICE;
  const s = new Scanner(bytes, limits, options.dataSpans ?? false);
  s.run(slice);
  while (!s.done) {
    await nextTurn();
    s.run(slice);
  }
  return { text: s.text(), spans: s.spans };
}

/**
 * Parses a body after the limits were checked; syntax errors become OFS_INFER_JSON. parseJsonExact:
 * INT64/UINT64 values beyond 2^53 outside the numeric spans (nested or mixed data, parameters) stay exact.
 */
export function parseScanned(text: string): unknown {
  try {
    return parseJsonExact(text);
  } catch (e) {
    throw ofsError('OFS_INFER_JSON', e instanceof Error ? e.message : String(e));
  }
}

/** Bounded JSON.parse for small bodies: scan (throws OFS_REQUEST_TOO_LARGE), then parse. */
export function parseJsonBounded(bytes: Uint8Array, limits: JsonLimits): unknown {
  return parseScanned(scanJsonSync(bytes, limits).text);
}
