import protobuf from 'protobufjs';
import { MODEL_CONFIG_PROTO } from './model-config-proto.js';

/**
 * The ModelConfig schema loaded into protobufjs reflection. keepCase keeps the proto field names
 * (max_batch_size), which is what config.pbtxt, the plain ModelConfig objects and Triton's JSON use.
 */
const root = protobuf.parse(MODEL_CONFIG_PROTO, { keepCase: true }).root;
root.resolveAll();

export const ModelConfigType: protobuf.Type = root.lookupType('inference.ModelConfig');

/** The reflected schema, for code that walks other message types of the package. */
export const modelConfigRoot: protobuf.Root = root;

/** `ModelWarmup.Input` for nested types, `ModelConfig` for top-level ones: how messages name types. */
export function typeLabel(t: protobuf.ReflectionObject): string {
  return t.fullName.replace(/^\.inference\./, '');
}
