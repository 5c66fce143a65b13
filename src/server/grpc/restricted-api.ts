import { status, type Metadata, type UntypedHandleCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { restrictionFailure, type RestrictedApi, type Restrictions } from '../restricted-api.js';

/**
 * --grpc-restricted-protocol on the gRPC endpoint: each RPC's Triton protocol group, and handlers that
 * answer UNAVAILABLE "This protocol is restricted, expecting header 'triton-grpc-protocol-<key>'"
 * (Triton's code and wording) when the metadata is missing or wrong.
 */

const RPC_APIS: Readonly<Record<string, RestrictedApi>> = {
  ServerLive: 'health',
  ServerReady: 'health',
  ModelReady: 'health',
  Check: 'health', // grpc.health.v1.Health
  Watch: 'health',
  ServerMetadata: 'metadata',
  ModelMetadata: 'metadata',
  ModelInfer: 'inference',
  ModelStreamInfer: 'inference',
  ModelConfig: 'model-config',
  ModelStatistics: 'statistics',
  RepositoryIndex: 'model-repository',
  RepositoryModelLoad: 'model-repository',
  RepositoryModelUnload: 'model-repository',
  SystemSharedMemoryStatus: 'shared-memory',
  SystemSharedMemoryRegister: 'shared-memory',
  SystemSharedMemoryUnregister: 'shared-memory',
  CudaSharedMemoryStatus: 'shared-memory',
  CudaSharedMemoryRegister: 'shared-memory',
  CudaSharedMemoryUnregister: 'shared-memory',
  TraceSetting: 'trace',
  LogSettings: 'logging',
};

export function grpcApiOf(method: string): RestrictedApi | undefined {
  return RPC_APIS[method];
}

function refusalOf(restrictions: Restrictions, method: string, metadata: Metadata): string | undefined {
  const get = (name: string): string | undefined => {
    const v = metadata.get(name)[0];
    return typeof v === 'string' ? v : v?.toString('utf8');
  };
  return restrictionFailure(restrictions, grpcApiOf(method), get, 'protocol');
}

type AnyCall = { metadata: Metadata; emit?: (event: 'error', e: unknown) => boolean; end?: () => void };
type AnyHandler = (call: AnyCall, callback?: (error: unknown) => void) => void;

/** Wraps every handler of a service implementation with the restriction of its RPC's group. */
export function restrictHandlers(handlers: UntypedServiceImplementation, restrictions: Restrictions): UntypedServiceImplementation {
  if (restrictions.size === 0) return handlers;
  const out: UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    const inner = handler as unknown as AnyHandler;
    const wrapped: AnyHandler = (call, callback) => {
      const refusal = refusalOf(restrictions, method, call.metadata);
      if (!refusal) return inner(call, callback);
      const error = { code: status.UNAVAILABLE, details: refusal };
      // unary and client-streaming calls answer through the callback; streaming ones through the call
      if (callback) callback(error);
      else call.emit?.('error', error);
    };
    out[method] = wrapped as unknown as UntypedHandleCall;
  }
  return out;
}
