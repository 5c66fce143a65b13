import type { ModelConfig } from './model-config.js';
import { shapeOf, type MessageShape } from './pbtxt-schema.js';
import { ModelConfigType } from './proto.js';

/**
 * Triton's JSON form of a ModelConfig (GET /v2/models/{m}/config): proto field names, every primitive
 * field printed even at its default (Triton's always_print_primitive_fields), repeated fields and maps
 * as [] / {}, enums as names, 64-bit integers as JSON numbers. Unset message fields and unset oneof
 * members are left out, as protobuf's JSON printer does.
 */
export function configToTritonJson(config: ModelConfig): Record<string, unknown> {
  const message = ModelConfigType.fromObject(config);
  const json = ModelConfigType.toObject(message, { defaults: true, enums: String, longs: Number, arrays: true, objects: true });
  return tidy(shapeOf(ModelConfigType), json);
}

/**
 * Keys in field-number order (toObject puts repeated fields first) and without the nulls toObject's
 * defaults give unset message fields, which protobuf's JSON printer leaves out.
 */
function tidy(shape: MessageShape, obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const slot of shape.slots) {
    const v = obj[slot.name];
    if (v === null || v === undefined) continue;
    const sub = slot.message;
    if (!sub) out[slot.name] = v;
    else if (slot.mapKey !== undefined) out[slot.name] = mapValues(v as Record<string, Record<string, unknown>>, (x) => tidy(sub, x));
    else if (slot.repeated) out[slot.name] = (v as Record<string, unknown>[]).map((x) => tidy(sub, x));
    else out[slot.name] = tidy(sub, v as Record<string, unknown>);
  }
  return out;
}

function mapValues<T, U>(obj: Record<string, T>, f: (v: T) => U): Record<string, U> {
  const out: Record<string, U> = {};
  for (const [k, v] of Object.entries(obj)) Object.defineProperty(out, k, { value: f(v), enumerable: true, writable: true, configurable: true });
  return out;
}
