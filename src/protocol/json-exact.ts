import { randomBytes } from 'node:crypto';

/**
 * JSON with exact 64-bit integers, for INT64/UINT64 tensor data in KServe v2 bodies. JSON.parse turns
 * 9007199254740993 into 9007199254740992, and JSON.stringify refuses bigint; Triton reads and writes
 * those values exactly, so both ends of ofserve (server requests and responses, client requests and
 * responses) go through here instead.
 *
 * Node 20 has neither JSON.parse source access nor JSON.rawJSON, so an integer literal that a double
 * cannot hold is carried through JSON.parse as a string with a per-call random marker and turned into a
 * bigint by the reviver. Bodies without a 16-digit run (nearly all of them) take JSON.parse unchanged.
 */

/** Any JSON value, with integers beyond 2^53 as bigint. */
export type ExactJson = null | boolean | number | bigint | string | ExactJson[] | { [key: string]: ExactJson };

// A string token (so digits inside strings are left alone) or a number token, whole.
const TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
const LONG_DIGITS = /\d{16}/;

function marker(): string {
  // A NUL cannot appear raw in JSON text, and the nonce keeps a sender's own "\u0000…" strings apart.
  return `\u0000int:${randomBytes(6).toString('hex')}:`;
}

/** JSON.parse, except that integer literals beyond Number.MAX_SAFE_INTEGER become exact bigints. */
export function parseJsonExact(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  const tag = marker();
  let tagged = false;
  const rewritten = text.replace(TOKEN, (token) => {
    if (token.charCodeAt(0) === 34 /* " */ || /[.eE]/.test(token)) return token;
    if (Number.isSafeInteger(Number(token))) return token;
    tagged = true;
    return JSON.stringify(tag + token);
  });
  if (!tagged) return JSON.parse(text);
  return JSON.parse(rewritten, (_key, value: unknown) =>
    typeof value === 'string' && value.startsWith(tag) ? BigInt(value.slice(tag.length)) : value,
  );
}

/** JSON.stringify (compact), writing bigints as bare integer literals instead of throwing. */
export function stringifyJsonExact(value: unknown): string {
  let tag: string | undefined;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    tag ??= marker();
    return tag + v.toString();
  });
  if (tag === undefined) return text;
  // JSON.stringify escapes the NUL as \u0000; match the marker in its escaped form.
  const escaped = JSON.stringify(tag).slice(1, -1).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  return text.replace(new RegExp(`"${escaped}(-?\\d+)"`, 'g'), '$1');
}
