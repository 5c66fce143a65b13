import { ofsError } from '../../errors.js';
import type { ModelConfig } from './model-config.js';
import { isDefaultScalar, mapEntryShape, shapeOf, type MessageShape, type Slot } from './pbtxt-schema.js';
import { ModelConfigType } from './proto.js';

/**
 * Reads a ModelConfig from Triton's JSON form (the `config` parameter of a load request), strictly:
 * unknown fields and wrongly typed values are errors, as in protobuf's JSON parser. Accepts proto
 * field names or their lowerCamelCase JSON names, enums by name or number, 64-bit integers as numbers
 * or decimal strings. The result has the same proto3-presence shape parsePbtxt returns.
 */
export function configFromTritonJson(json: unknown, file: string): ModelConfig {
  return readMessage(shapeOf(ModelConfigType), json, 'config', (path, what) => {
    throw ofsError('OFS_CONFIG_INVALID', file, `  ${path}: ${what}`);
  }) as ModelConfig;
}

type Fail = (path: string, what: string) => never;

function readMessage(shape: MessageShape, v: unknown, path: string, fail: Fail): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(path, `expected an object for ${shape.label}`);
  const out: Record<string, unknown> = {};
  const oneofs = new Map<string, string>();
  for (const [key, raw] of Object.entries(v as object)) {
    const slot = shape.slot(key) ?? shape.slots.find((s) => camel(s.name) === key);
    if (!slot) fail(`${path}.${key}`, `unknown field in ${shape.label}`);
    if (raw === null) continue;
    const at = `${path}.${slot.name}`;
    if (Object.hasOwn(out, slot.name)) fail(at, 'set twice (under its proto and JSON names)');
    if (slot.oneof !== undefined) {
      const other = oneofs.get(slot.oneof);
      if (other !== undefined) fail(at, `only one of oneof ${slot.oneof} may be set, and \`${other}\` is`);
      oneofs.set(slot.oneof, slot.name);
    }
    const value = readField(slot, raw, at, fail);
    if (value === undefined || (slot.repeated && isEmpty(value)) || (!slot.repeated && isDefaultScalar(slot, value))) continue;
    out[slot.name] = value;
  }
  return out;
}

function readField(slot: Slot, raw: unknown, path: string, fail: Fail): unknown {
  if (slot.mapKey !== undefined) {
    if (typeof raw !== 'object' || Array.isArray(raw)) fail(path, 'expected an object (map)');
    const [keySlot, valueSlot] = mapEntryShape(slot).slots;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(raw as object)) {
      const key = String(readSingle(keySlot, k, `${path}[${JSON.stringify(k)}]`, fail));
      Object.defineProperty(out, key, { value: readSingle(valueSlot, x, `${path}[${JSON.stringify(k)}]`, fail), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  if (slot.repeated) {
    if (!Array.isArray(raw)) fail(path, 'expected an array');
    return (raw as unknown[]).map((x, i) => readSingle(slot, x, `${path}[${i}]`, fail));
  }
  return readSingle(slot, raw, path, fail);
}

function readSingle(slot: Slot, v: unknown, path: string, fail: Fail): unknown {
  if (slot.message) return readMessage(slot.message, v, path, fail);
  if (slot.enumType) {
    const e = slot.enumType;
    if (typeof v === 'string' && Object.hasOwn(e.values, v)) return v;
    if (typeof v === 'number' && e.valuesById[v] !== undefined) return e.valuesById[v];
    return fail(path, `expected one of ${Object.keys(e.values).join(', ')}`);
  }
  switch (slot.type) {
    case 'string':
    case 'bytes':
      if (typeof v !== 'string') fail(path, 'expected a string');
      return v;
    case 'bool':
      if (v === 'true' || v === 'false') return v === 'true'; // map keys arrive as strings
      if (typeof v !== 'boolean') fail(path, 'expected true or false');
      return v;
    case 'float':
    case 'double': {
      const n = typeof v === 'string' ? Number(v) : v;
      if (typeof n !== 'number' || (Number.isNaN(n) && v !== 'NaN')) fail(path, 'expected a number');
      return n;
    }
    default: {
      const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) fail(path, `expected an integer (${slot.type})`);
      const [lo, hi] = intRange(slot.type);
      if ((n as number) < lo || (n as number) > hi) fail(path, `${n} is out of range for ${slot.type}`);
      return n;
    }
  }
}

function intRange(type: string): [number, number] {
  const unsigned = type.startsWith('u') || type.startsWith('fixed');
  if (type.endsWith('32')) return unsigned ? [0, 2 ** 32 - 1] : [-(2 ** 31), 2 ** 31 - 1];
  return unsigned ? [0, Number.MAX_SAFE_INTEGER] : [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
}

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function isEmpty(v: unknown): boolean {
  return Array.isArray(v) ? v.length === 0 : typeof v === 'object' && v !== null && Object.keys(v).length === 0;
}
