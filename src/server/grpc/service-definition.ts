import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { grpcRoot, PLAIN_OBJECT_OPTIONS } from './schema.js';

/**
 * A @grpc/grpc-js ServiceDefinition made from protobufjs reflection, so one schema (our .proto text)
 * serves both the server and test clients without @grpc/proto-loader's descriptor round trip.
 * Messages cross the boundary as plain objects (PLAIN_OBJECT_OPTIONS); serializing accepts plain
 * objects with enum names and numbers or strings for 64-bit fields.
 */

export function encodeMessage(type: protobuf.Type, value: object): Buffer {
  const bytes = type.encode(type.fromObject(value as Record<string, unknown>)).finish();
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodeMessage<T>(type: protobuf.Type, bytes: Uint8Array): T {
  return type.toObject(type.decode(bytes), PLAIN_OBJECT_OPTIONS) as T;
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** Every RPC of `serviceName`, keyed by its proto name (`ModelInfer`), at `/<package.Service>/<Rpc>`. */
export function serviceDefinition(serviceName: string, root: protobuf.Root = grpcRoot): ServiceDefinition {
  const service = root.lookupService(serviceName);
  const definition: Record<string, MethodDefinition<object, object>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const request = method.resolvedRequestType as protobuf.Type;
    const response = method.resolvedResponseType as protobuf.Type;
    definition[method.name] = {
      path: `/${serviceName}/${method.name}`,
      requestStream: Boolean(method.requestStream),
      responseStream: Boolean(method.responseStream),
      requestSerialize: (value) => encodeMessage(request, value),
      requestDeserialize: (bytes) => decodeMessage(request, bytes),
      responseSerialize: (value) => encodeMessage(response, value),
      responseDeserialize: (bytes) => decodeMessage(response, bytes),
      // grpc-js clients also expose the method under this name (modelInfer next to ModelInfer).
      originalName: lowerFirst(method.name),
    };
  }
  return definition as ServiceDefinition;
}
