import { ofsError, type OfsError } from '../errors.js';
import { SOCKET_ERRORS } from './socket-errors.js';

/**
 * A failed gRPC call as an OfsError, following the HTTP client's split: no connection or no answer in
 * time → OFS_SERVER_UNREACHABLE; a status the server sent → OFS_SERVER_ERROR with the server's message.
 *
 * UNAVAILABLE is both what grpc-js reports when it cannot connect and what a server sends for "model
 * not ready" or "shutting down"; only grpc-js's own transport wording makes it a connection failure.
 */

// grpc status codes (grpc/doc/statuscodes.md).
const DEADLINE_EXCEEDED = 4;
const UNAVAILABLE = 14;

const TRANSPORT_FAILURE =
  /No connection established|Connection dropped|Stream refused by server|Channel closed|Name resolution failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|Failed to connect|failed to connect/;

export interface GrpcStatusLike {
  readonly code: number;
  readonly details: string;
}

function isStatus(e: unknown): e is GrpcStatusLike {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'number' && typeof (e as { details?: unknown }).details === 'string';
}

/** The codes of SOCKET_ERRORS as they appear in grpc-js's details text. */
const SOCKET_ERROR_CODE = new RegExp(`\\b(${Object.keys(SOCKET_ERRORS).join('|')})\\b`);

function describeTransportFailure(details: string): string {
  const errno = SOCKET_ERROR_CODE.exec(details);
  if (errno) return SOCKET_ERRORS[errno[1] as string] as string;
  // grpc-js appends an empty "Resolution note:" to some of its messages.
  return details.replace(/\s*Resolution note:\s*$/, '').trim();
}

export function grpcFailure(e: unknown, target: string, timeoutMs: number): OfsError {
  if (!isStatus(e)) return ofsError('OFS_SERVER_UNREACHABLE', target, e instanceof Error ? e.message : String(e));
  if (e.code === DEADLINE_EXCEEDED) return ofsError('OFS_SERVER_UNREACHABLE', target, `no answer within ${timeoutMs} ms`);
  if (e.code === UNAVAILABLE && TRANSPORT_FAILURE.test(e.details)) {
    return ofsError('OFS_SERVER_UNREACHABLE', target, describeTransportFailure(e.details));
  }
  return ofsError('OFS_SERVER_ERROR', e.code, e.details);
}
