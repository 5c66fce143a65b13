import { ofsError } from '../errors.js';

/**
 * What tritonclient.grpc and perf_analyzer take for -u (`localhost:8001`, `host:port`, `[::1]:8001`),
 * also with a `grpc://` or `http://` scheme in front, as the `host:port` target grpc-js dials.
 */
export function normalizeGrpcTarget(url: string): string {
  const trimmed = url.trim().replace(/\/+$/, '');
  if (trimmed === '') throw ofsError('OFS_BAD_ARGUMENT', 'the server URL is empty (expected host:port)');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed);
  if (scheme && !/^(grpc|http)$/i.test(scheme[1])) {
    throw ofsError('OFS_BAD_ARGUMENT', `'${url}' uses ${scheme[1]}://; the gRPC client takes host:port (or grpc://host:port)`);
  }
  const target = scheme ? trimmed.slice(scheme[0].length) : trimmed;
  if (!/^(\[[0-9a-f:.]+\]|[^\s/:[\]]+):\d{1,5}$/i.test(target)) {
    throw ofsError('OFS_BAD_ARGUMENT', `'${url}' is not a gRPC server address (expected host:port, e.g. localhost:8001)`);
  }
  return target;
}
