import type { sendUnaryData, ServerUnaryCall, StatusObject } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import { ofsError, toOfsError } from '../../errors.js';
import { grpcCodeOf } from '../../protocol/error-status.js';
import { MalformedMessage } from '../../protocol/grpc-schema.js';

/**
 * The one wrapper every gRPC handler goes through: whatever a handler throws becomes a gRPC status
 * whose code comes from the shared ErrorKind table and whose details are the OfsError message
 * (unknown model: NOT_FOUND "Request for unknown model: 'm' is not found").
 */

/**
 * Details travel in the grpc-message trailer, and a client drops trailers over its header-list limit
 * (8-16 KiB) without ever completing the call: a message echoing a 100 KB model name would hang it.
 */
export const MAX_STATUS_DETAILS = 4096;

export function grpcStatusOf(error: unknown): StatusObject {
  const e = toOfsError(error);
  return { code: grpcCodeOf(e.kind), details: clipDetails(e.message), metadata: new Metadata() };
}

/** Cut on a code point boundary: a lone surrogate makes grpc-js's percent-encoding throw (another hang). */
function clipDetails(text: string): string {
  if (text.length <= MAX_STATUS_DETAILS) return text;
  let cut = MAX_STATUS_DETAILS - 3;
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut--;
  return `${text.slice(0, cut)}...`;
}

/** `signal` aborts when the client cancels the call (or its deadline passes) before the answer. */
export type UnaryHandler<Req, Res> = (request: Req, signal: AbortSignal) => Res | Promise<Res>;

/** The decoded request, or OFS_GRPC_MALFORMED (INVALID_ARGUMENT) for bytes the strict decoder refused. */
export function wellFormed<Req>(request: Req | MalformedMessage): Req {
  if (request instanceof MalformedMessage) throw ofsError('OFS_GRPC_MALFORMED', request.typeName, request.problem);
  return request;
}

export function unary<Req, Res>(handler: UnaryHandler<Req, Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    const cancelled = new AbortController();
    const onCancelled = (): void => cancelled.abort();
    call.once('cancelled', onCancelled);
    Promise.resolve()
      .then(() => handler(wellFormed(call.request), cancelled.signal))
      .then(
        (response) => callback(null, response),
        (error: unknown) => callback(grpcStatusOf(error)),
      )
      .finally(() => call.off('cancelled', onCancelled));
  };
}
