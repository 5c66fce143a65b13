import protobuf from 'protobufjs';
import { MODEL_CONFIG_PROTO } from '../../core/config/model-config-proto.js';
import { GRPC_HEALTH_PROTO, GRPC_SERVICE_PROTO } from '../../protocol/grpc-service-proto.js';

/**
 * The gRPC schema in protobufjs reflection: model_config.proto, grpc_service.proto and the health
 * service parsed into one Root of their own, so `inference.ModelConfig` resolves inside
 * ModelConfigResponse without touching the config layer's Root. keepCase keeps proto field names
 * (model_name, raw_input_contents), which is what the converters and Triton's JSON use.
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

export function messageType(name: string): protobuf.Type {
  return grpcRoot.lookupType(name);
}
