import type { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { isOfsError, ofsError } from '../../errors.js';
import { MalformedMessage } from '../../protocol/grpc-schema.js';
import type { DataPlane } from '../dataplane.js';
import {
  FINAL_RESPONSE,
  inferRequestFromGrpc,
  inferResponseToGrpc,
  modelConfigToGrpc,
  modelMetadataToGrpc,
  repositoryIndexToGrpc,
  serverMetadataToGrpc,
  statisticsToGrpc,
  wantsFinalFlag,
} from './converters.js';
import type {
  GrpcHealthCheckRequest,
  GrpcHealthCheckResponse,
  GrpcModelInferRequest,
  GrpcModelInferResponse,
  GrpcModelRef,
  GrpcModelStreamInferResponse,
  GrpcRepositoryIndexRequest,
  GrpcRepositoryModelRequest,
} from './messages.js';
import { grpcStatusOf, unary, wellFormed } from './status.js';

/** The GRPCInferenceService and Health RPCs on top of the DataPlane: convert, delegate, convert back. */

function refuseRepositoryName(name: string | undefined): void {
  if (name) throw ofsError('OFS_PROTOCOL_UNSUPPORTED', "'repository_name' specification is not supported");
}

/**
 * One ModelInfer: unknown model first (as Triton, before the body is looked at), then the data plane.
 * `signal` aborts when the client cancels: a request still queued is then dropped, not executed.
 */
async function infer(dataplane: DataPlane, request: GrpcModelInferRequest, finalFlag: boolean, signal: AbortSignal): Promise<GrpcModelInferResponse> {
  const receivedNs = process.hrtime.bigint();
  dataplane.model(request.model_name ?? '', request.model_version || undefined);
  const result = await dataplane.infer({ ...inferRequestFromGrpc(request, receivedNs), signal });
  return inferResponseToGrpc(result, finalFlag ? { [FINAL_RESPONSE]: true } : undefined);
}

/**
 * ModelStreamInfer: one response per request, {infer_response} or {error_message}. Requests run as
 * they arrive (so the dynamic batcher can batch them) while responses are written in request order.
 * Once the server is closing (`closing` aborts) the stream is ended, with an OK status, as soon as the
 * responses of the requests it already sent are written: an idle stream must not hold a shutdown.
 */
function streamInfer(dataplane: DataPlane, closing: AbortSignal) {
  return (call: ServerDuplexStream<GrpcModelInferRequest, GrpcModelStreamInferResponse>): void => {
    let written: Promise<void> = Promise.resolve();
    const open = (): boolean => !call.cancelled && !call.writableEnded;
    const endAfterWritten = (): void => {
      void written.then(() => {
        if (open()) call.end();
      });
    };
    // A cancelled stream (or one whose connection broke) drops every request of it still queued.
    const gone = new AbortController();
    call.once('cancelled', () => gone.abort());
    call.on('data', (message: GrpcModelInferRequest | MalformedMessage) => {
      const request = message instanceof MalformedMessage ? {} : message;
      const run = async () => {
        const r = wellFormed(message);
        if (closing.aborted) throw ofsError('OFS_SERVER_SHUTTING_DOWN');
        return infer(dataplane, r, wantsFinalFlag(r), gone.signal);
      };
      const response: Promise<GrpcModelStreamInferResponse> = run().then(
        (infer_response) => ({ infer_response }),
        // The id goes back with the error (as Triton does) so a client with several requests in
        // flight on the stream, such as perf_analyzer, can tell which one failed.
        (error: unknown) => ({ error_message: grpcStatusOf(error).details, infer_response: { id: request.id ?? '' } }),
      );
      written = written
        .then(async () => {
          const message = await response;
          if (open()) call.write(message);
        })
        .catch(() => undefined); // a failed write (stream gone) must not stop later ones
    });
    call.on('end', endAfterWritten);
    const onClosing = (): void => endAfterWritten();
    closing.addEventListener('abort', onClosing, { once: true });
    if (closing.aborted) endAfterWritten();
    call.once('close', () => closing.removeEventListener('abort', onClosing));
    // A cancelled or broken stream: pending responses are dropped by the checks above.
    call.on('error', () => gone.abort());
  };
}

/**
 * Triton's gRPC ModelReady answers an unknown model with ready: false and an OK status (core's
 * ModelIsReady swallows the lookup error), so tritonclient.grpc's is_model_ready returns False
 * instead of raising.
 */
function modelReady(dataplane: DataPlane, r: GrpcModelRef): boolean {
  try {
    return dataplane.modelReady(r.name ?? '', r.version || undefined);
  } catch (e) {
    if (isOfsError(e) && e.code === 'OFS_MODEL_UNKNOWN') return false;
    throw e;
  }
}

function unimplemented(rpc: string) {
  return unary(() => {
    throw ofsError('OFS_PROTOCOL_UNSUPPORTED', `${rpc} is not supported by this server`);
  });
}

/** `closing` aborts when the server starts to shut down (open streams then end once answered). */
export function inferenceHandlers(dataplane: DataPlane, closing: AbortSignal = new AbortController().signal): UntypedServiceImplementation {
  return {
    ServerLive: unary(() => ({ live: dataplane.live() })),
    ServerReady: unary(() => ({ ready: dataplane.ready() })),
    ModelReady: unary((r: GrpcModelRef) => ({ ready: modelReady(dataplane, r) })),
    ServerMetadata: unary(() => serverMetadataToGrpc(dataplane.serverMetadata())),
    ModelMetadata: unary((r: GrpcModelRef) => modelMetadataToGrpc(dataplane.modelMetadata(r.name ?? '', r.version || undefined))),
    ModelInfer: unary((r: GrpcModelInferRequest, signal) => infer(dataplane, r, false, signal)),
    ModelStreamInfer: streamInfer(dataplane, closing),
    ModelConfig: unary((r: GrpcModelRef) => modelConfigToGrpc(dataplane.modelConfig(r.name ?? '', r.version || undefined))),
    ModelStatistics: unary((r: GrpcModelRef) => statisticsToGrpc(dataplane.statistics(r.name || undefined, r.version || undefined))),
    RepositoryIndex: unary((r: GrpcRepositoryIndexRequest) => {
      refuseRepositoryName(r.repository_name);
      return repositoryIndexToGrpc(dataplane.repositoryIndex(r.ready === true));
    }),
    RepositoryModelLoad: unary(async (r: GrpcRepositoryModelRequest) => {
      refuseRepositoryName(r.repository_name);
      await dataplane.load(r.model_name ?? '', Object.keys(r.parameters ?? {}));
      return {};
    }),
    RepositoryModelUnload: unary(async (r: GrpcRepositoryModelRequest) => {
      refuseRepositoryName(r.repository_name);
      await dataplane.unload(r.model_name ?? '');
      return {};
    }),
    SystemSharedMemoryStatus: unimplemented('SystemSharedMemoryStatus'),
    SystemSharedMemoryRegister: unimplemented('SystemSharedMemoryRegister'),
    SystemSharedMemoryUnregister: unimplemented('SystemSharedMemoryUnregister'),
    CudaSharedMemoryStatus: unimplemented('CudaSharedMemoryStatus'),
    CudaSharedMemoryRegister: unimplemented('CudaSharedMemoryRegister'),
    CudaSharedMemoryUnregister: unimplemented('CudaSharedMemoryUnregister'),
    TraceSetting: unimplemented('TraceSetting'),
    LogSettings: unimplemented('LogSettings'),
  };
}

/** grpc.health.v1.Health/Check: SERVING while the server is ready (Triton ignores `service`). */
export function healthHandlers(dataplane: DataPlane): UntypedServiceImplementation {
  return {
    Check: unary((_r: GrpcHealthCheckRequest): GrpcHealthCheckResponse => ({
      status: dataplane.ready() ? 'SERVING' : 'NOT_SERVING',
    })),
  };
}
