import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { ofsError } from '../../errors.js';

/**
 * HTTP Content-Encoding as Triton handles it (triton-protocol.md §2): gzip and deflate (a zlib stream)
 * on requests, and on infer responses when Accept-Encoding asks for them.
 */

export type Coding = 'gzip' | 'deflate';

export const ACCEPTED_ENCODINGS = 'gzip, deflate';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const gzip = promisify(zlib.gzip);
const deflate = promisify(zlib.deflate);

/** Errors that must carry `Accept-Encoding: gzip, deflate` in the 501 response. */
export const unsupportedEncodingErrors = new WeakSet<Error>();

/**
 * Decodes a request body by its Content-Encoding; zlib stops inflating at `limit` bytes (so a
 * gzip bomb costs at most the limit), which throws `tooLarge()`.
 */
export async function decodeRequestBody(
  body: Buffer,
  contentEncoding: string | undefined,
  limit: number,
  tooLarge: () => Error = () => ofsError('OFS_BODY_TOO_LARGE', limit),
): Promise<Buffer> {
  const coding = (contentEncoding ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return body;
  if (coding !== 'gzip' && coding !== 'deflate') {
    const error = ofsError('OFS_PROTOCOL_UNSUPPORTED', `unsupported Content-Encoding '${contentEncoding}'`);
    unsupportedEncodingErrors.add(error);
    throw error;
  }
  try {
    const options = { maxOutputLength: limit };
    return coding === 'gzip' ? await gunzip(body, options) : await inflate(body, options);
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
    throw ofsError('OFS_INFER_INPUT', `failed to decompress the request body (${coding}): ${(e as Error).message}`);
  }
}

/** The coding to answer with: the gzip/deflate entry of Accept-Encoding with the highest q (first wins ties). */
export function negotiateEncoding(acceptEncoding: string | undefined): Coding | undefined {
  if (!acceptEncoding) return undefined;
  let best: Coding | undefined;
  let bestQ = 0;
  for (const part of acceptEncoding.split(',')) {
    const [token, ...params] = part.trim().split(';');
    const name = token.trim().toLowerCase();
    if (name !== 'gzip' && name !== 'deflate') continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=').map((x) => x.trim());
      if (k === 'q') q = Number(v);
    }
    if (Number.isFinite(q) && q > bestQ) {
      best = name;
      bestQ = q;
    }
  }
  return best;
}

export function encodeBody(body: Buffer, coding: Coding): Promise<Buffer> {
  return coding === 'gzip' ? gzip(body) : deflate(body);
}
