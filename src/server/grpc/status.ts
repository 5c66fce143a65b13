import type { sendUnaryData, ServerUnaryCall, StatusObject } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import { toOfsError } from '../../errors.js';
import { grpcCodeOf } from '../../protocol/error-status.js';

/**
 * The one wrapper every gRPC handler goes through: whatever a handler throws becomes a gRPC status
 * whose code comes from the shared ErrorKind table and whose details are the OfsError message
 * (unknown model: NOT_FOUND "Request for unknown model: 'm' is not found").
 */

export function grpcStatusOf(error: unknown): StatusObject {
  const e = toOfsError(error);
  return { code: grpcCodeOf(e.kind), details: e.message, metadata: new Metadata() };
}

export type UnaryHandler<Req, Res> = (request: Req) => Res | Promise<Res>;

export function unary<Req, Res>(handler: UnaryHandler<Req, Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    Promise.resolve()
      .then(() => handler(call.request))
      .then(
        (response) => callback(null, response),
        (error: unknown) => callback(grpcStatusOf(error)),
      );
  };
}
