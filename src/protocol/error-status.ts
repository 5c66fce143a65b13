import type { ErrorKind } from '../errors.js';

/**
 * The one place an error kind becomes a wire status. Triton's HttpCodeFromError and its gRPC mapping
 * (triton-protocol.md §1, §5); every adapter goes through these tables so HTTP and gRPC never disagree.
 */

export const HTTP_STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  INVALID_ARG: 400,
  NOT_FOUND: 404,
  UNAVAILABLE: 503,
  UNSUPPORTED: 501,
  INTERNAL: 500,
  ALREADY_EXISTS: 400,
  // Triton's HttpCodeFromError has no case for CANCELLED and falls through to 400.
  CANCELLED: 400,
};

/** grpc-js `status` numbers (INVALID_ARGUMENT=3, NOT_FOUND=5, …), kept numeric so core needs no grpc import. */
export const GRPC_CODE_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  INVALID_ARG: 3,
  NOT_FOUND: 5,
  UNAVAILABLE: 14,
  UNSUPPORTED: 12,
  INTERNAL: 13,
  ALREADY_EXISTS: 6,
  CANCELLED: 1,
};

export function httpStatusOf(kind: ErrorKind): number {
  return HTTP_STATUS_BY_KIND[kind];
}

export function grpcCodeOf(kind: ErrorKind): number {
  return GRPC_CODE_BY_KIND[kind];
}
