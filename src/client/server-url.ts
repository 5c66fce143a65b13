import { ofsError } from '../errors.js';

/**
 * Accepts what tritonclient and perf_analyzer accept for -u (`localhost:8000`, `host:port`) as well as a
 * full `http://host:port` URL; returns the origin (plus any path prefix) without a trailing slash.
 */
export function normalizeServerUrl(url: string): string {
  const trimmed = url.trim();
  if (trimmed === '') throw ofsError('OFS_BAD_ARGUMENT', 'the server URL is empty (expected host:port or http://host:port)');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw ofsError('OFS_BAD_ARGUMENT', `'${url}' is not a server URL (expected host:port or http://host:port)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw ofsError('OFS_BAD_ARGUMENT', `'${url}' uses ${parsed.protocol}; the HTTP client speaks http:// or https://`);
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}
