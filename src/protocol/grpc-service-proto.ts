import { readProto } from '../core/config/model-config-proto.js';

/** proto/grpc_service.proto: Triton's GRPCInferenceService with Triton's field numbers. */
export const GRPC_SERVICE_PROTO = readProto('grpc_service.proto');
/** proto/grpc_health.proto: grpc.health.v1 (its own package, so its own file). */
export const GRPC_HEALTH_PROTO = readProto('grpc_health.proto');
