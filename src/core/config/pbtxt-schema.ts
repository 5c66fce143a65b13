import protobuf from 'protobufjs';
import { typeLabel } from './proto.js';

/**
 * The view of protobufjs reflection that text-format parsing and printing need: what each field
 * holds, and the synthetic key/value "message" a map entry is written as.
 */

export interface Slot {
  readonly name: string;
  readonly id: number;
  /** protobufjs scalar type name ('string', 'int64', …) or the message/enum name. */
  readonly type: string;
  readonly message?: MessageShape;
  readonly enumType?: protobuf.Enum;
  readonly repeated: boolean;
  /** Key scalar type for map fields (then `repeated` is true and entries are objects). */
  readonly mapKey?: string;
  /** Oneof members have presence in proto3, so their default values are kept, not dropped. */
  readonly oneof?: string;
}

export interface MessageShape {
  /** How errors name the message: `ModelInput`, `ModelWarmup.Input`, `map entry of parameters`. */
  readonly label: string;
  readonly slots: readonly Slot[];
  slot(name: string): Slot | undefined;
}

const cache = new Map<protobuf.Type, MessageShape>();

export function shapeOf(type: protobuf.Type): MessageShape {
  let shape = cache.get(type);
  if (!shape) {
    const slots: Slot[] = [];
    const byName = new Map<string, Slot>();
    shape = { label: typeLabel(type), slots, slot: (name) => byName.get(name) };
    cache.set(type, shape); // before the fields, so recursive types terminate
    for (const f of [...type.fieldsArray].sort((a, b) => a.id - b.id)) {
      const s = slotOf(f);
      slots.push(s);
      byName.set(s.name, s);
    }
  }
  return shape;
}

function slotOf(f: protobuf.Field): Slot {
  const resolved = f.resolve().resolvedType;
  const base = {
    name: f.name,
    id: f.id,
    type: f.type,
    repeated: f.repeated || f.map,
    mapKey: f instanceof protobuf.MapField ? f.keyType : undefined,
    oneof: f.partOf?.name,
  };
  if (resolved instanceof protobuf.Type) return { ...base, message: shapeOf(resolved) };
  if (resolved instanceof protobuf.Enum) return { ...base, enumType: resolved };
  return base;
}

/** The key/value pair a map entry is written as: `parameters { key: "k" value { … } }`. */
export function mapEntryShape(map: Slot): MessageShape {
  const key: Slot = { name: 'key', id: 1, type: map.mapKey as string, repeated: false };
  const value: Slot = { name: 'value', id: 2, type: map.type, message: map.message, enumType: map.enumType, repeated: false };
  return {
    label: `map entry of \`${map.name}\``,
    slots: [key, value],
    slot: (name) => (name === 'key' ? key : name === 'value' ? value : undefined),
  };
}

export function isMessage(slot: Slot): boolean {
  return slot.message !== undefined || slot.mapKey !== undefined;
}

/** proto3's zero value of a singular field (a message's is the empty message). */
export function defaultValue(slot: Slot): unknown {
  if (slot.message) return {};
  if (slot.enumType) return slot.enumType.valuesById[0] ?? Object.keys(slot.enumType.values)[0];
  switch (slot.type) {
    case 'string':
    case 'bytes':
      return '';
    case 'bool':
      return false;
    default:
      return 0;
  }
}

/** Whether a singular scalar holds its zero value, which proto3 cannot tell apart from unset. */
export function isDefaultScalar(slot: Slot, value: unknown): boolean {
  return !slot.message && slot.oneof === undefined && value === defaultValue(slot);
}
