import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { MODEL_CONFIG_PROTO } from '../core/config/model-config-proto.js';
import { GRPC_HEALTH_PROTO, GRPC_SERVICE_PROTO } from './grpc-service-proto.js';
import { wireProblem } from './protobuf-strict.js';

/**
 * The gRPC schema in protobufjs reflection, shared by the server and the client: model_config.proto,
 * grpc_service.proto and the health service parsed into one Root of their own, so `inference.ModelConfig`
 * resolves inside ModelConfigResponse without touching the config layer's Root. keepCase keeps proto
 * field names (model_name, raw_input_contents), which is what the converters and Triton's JSON use.
 */

export const INFERENCE_SERVICE = 'inference.GRPCInferenceService';
export const HEALTH_SERVICE = 'grpc.health.v1.Health';

function buildRoot(): protobuf.Root {
  const root = new protobuf.Root();
  // grpc_service.proto's `import "model_config.proto"` is not followed by parse(); parsing the config
  // schema into the same Root first is what satisfies it.
  for (const text of [MODEL_CONFIG_PROTO, GRPC_SERVICE_PROTO, GRPC_HEALTH_PROTO]) {
    protobuf.parse(text, root, { keepCase: true });
  }
  root.resolveAll();
  return root;
}

export const grpcRoot: protobuf.Root = buildRoot();

/**
 * How decoded messages become plain objects: 64-bit integers as decimal strings (no precision lost for
 * int64 contents), enums by name, every field present (defaults, [] and {}), the set oneof member named
 * in its virtual field (`parameter_choice: 'int64_param'`), bytes as the Buffers protobufjs decoded.
 */
export const PLAIN_OBJECT_OPTIONS: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
};

// ── messages on the wire ─────────────────────────────────────────────────────────────────────────

/** Serializing accepts plain objects with enum names or numbers, and numbers or strings for 64-bit fields. */
export function encodeMessage(type: protobuf.Type, value: object): Buffer {
  const bytes = type.encode(type.fromObject(value as Record<string, unknown>)).finish();
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodeMessage<T>(
  type: protobuf.Type,
  bytes: Uint8Array,
  options: protobuf.IConversionOptions = PLAIN_OBJECT_OPTIONS,
): T {
  return type.toObject(type.decode(bytes), options) as T;
}

/**
 * What a server's request deserializer hands over instead of throwing for bytes that are not a valid
 * message: grpc-js would answer a throw with INTERNAL "Error deserializing request", while a malformed
 * request is the client's mistake (INVALID_ARGUMENT), which the handler reports with this problem.
 */
export class MalformedMessage {
  constructor(
    readonly typeName: string,
    readonly problem: string,
  ) {}
}

/** decodeMessage after the strict wire check; a MalformedMessage instead of a throw or a guessed value. */
export function decodeStrict<T>(type: protobuf.Type, bytes: Uint8Array): T | MalformedMessage {
  const problem = wireProblem(type, bytes);
  if (problem) return new MalformedMessage(type.name, problem);
  try {
    return decodeMessage<T>(type, bytes);
  } catch (e) {
    return new MalformedMessage(type.name, e instanceof Error ? e.message : String(e));
  }
}

// ── service definitions ──────────────────────────────────────────────────────────────────────────

export interface RpcTypes {
  /** `/<package.Service>/<Rpc>`, the HTTP/2 path of the method. */
  readonly path: string;
  readonly request: protobuf.Type;
  readonly response: protobuf.Type;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

/** The request and response types of `rpc` in `serviceName`. */
export function rpcTypes(serviceName: string, rpc: string, root: protobuf.Root = grpcRoot): RpcTypes {
  const method = root.lookupService(serviceName).methods[rpc];
  if (!method) throw new Error(`${serviceName} has no rpc ${rpc}`);
  method.resolve();
  return {
    path: `/${serviceName}/${method.name}`,
    request: method.resolvedRequestType as protobuf.Type,
    response: method.resolvedResponseType as protobuf.Type,
    requestStream: Boolean(method.requestStream),
    responseStream: Boolean(method.responseStream),
  };
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/**
 * A @grpc/grpc-js ServiceDefinition made from protobufjs reflection, so one schema (our .proto text)
 * serves both sides without @grpc/proto-loader's descriptor round trip. Every RPC of `serviceName` is
 * keyed by its proto name (`ModelInfer`); messages cross the boundary as plain objects
 * (PLAIN_OBJECT_OPTIONS), requests after the strict check (a MalformedMessage when it fails).
 */
export function serviceDefinition(serviceName: string, root: protobuf.Root = grpcRoot): ServiceDefinition {
  const definition: Record<string, MethodDefinition<object, object>> = {};
  for (const method of root.lookupService(serviceName).methodsArray) {
    const t = rpcTypes(serviceName, method.name, root);
    definition[method.name] = {
      path: t.path,
      requestStream: t.requestStream,
      responseStream: t.responseStream,
      requestSerialize: (value) => encodeMessage(t.request, value),
      requestDeserialize: (bytes) => decodeStrict<object>(t.request, bytes),
      responseSerialize: (value) => encodeMessage(t.response, value),
      responseDeserialize: (bytes) => decodeMessage(t.response, bytes),
      // grpc-js clients also expose the method under this name (modelInfer next to ModelInfer).
      originalName: lowerFirst(method.name),
    };
  }
  return definition as ServiceDefinition;
}
