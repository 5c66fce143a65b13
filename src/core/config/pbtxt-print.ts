import { ofsError } from '../../errors.js';
import type { ModelConfig } from './model-config.js';
import { isDefaultScalar, isMessage, mapEntryShape, shapeOf, type MessageShape, type Slot } from './pbtxt-schema.js';
import { ModelConfigType } from './proto.js';

/**
 * Prints a ModelConfig as config.pbtxt in the style people write by hand: scalar lists inline
 * (`dims: [ 3, 224, 224 ]`), repeated messages as a bracketed list, maps as repeated key/value
 * blocks, fields in field-number order except that a model's identity (name, platform, backend) comes
 * first, as in every Triton and OneFlow-Serving example. Unset fields and singular scalars at their
 * proto3 zero value are left out (parsePbtxt drops those too, so the round trip is lossless).
 */
export function printPbtxt(config: ModelConfig): string {
  const lines: string[] = [];
  printFields(shapeOf(ModelConfigType), config as Record<string, unknown>, '', lines, 'ModelConfig');
  return lines.length ? `${lines.join('\n')}\n` : '';
}

const INDENT = '  ';

function printFields(shape: MessageShape, obj: Record<string, unknown>, indent: string, lines: string[], path: string): void {
  for (const key of Object.keys(obj)) {
    if (!shape.slot(key) && obj[key] !== undefined) bad(`${path}.${key}`, `is not a field of ${shape.label}`);
  }
  for (const slot of printOrder(shape)) {
    const value = obj[slot.name];
    if (value === undefined || value === null) continue;
    const at = `${path}.${slot.name}`;
    if (slot.mapKey !== undefined) printMap(slot, value, indent, lines, at);
    else if (slot.repeated) printRepeated(slot, value, indent, lines, at);
    else if (slot.message) printMessage(`${indent}${slot.name} `, slot.message, value, indent, lines, at);
    else if (!isDefaultScalar(slot, value)) lines.push(`${indent}${slot.name}: ${scalar(slot, value, at)}`);
  }
}

/** backend is field 17 of ModelConfig, but people read a config's identity first. */
const LEADING_FIELDS = ['name', 'platform', 'backend'];

function printOrder(shape: MessageShape): readonly Slot[] {
  if (shape !== shapeOf(ModelConfigType)) return shape.slots;
  const lead = LEADING_FIELDS.map((n) => shape.slot(n)).filter((s): s is Slot => s !== undefined);
  return [...lead, ...shape.slots.filter((s) => !LEADING_FIELDS.includes(s.name))];
}

/** `head` is everything before the opening brace: indentation and `name ` (empty for list items). */
function printMessage(head: string, shape: MessageShape, value: unknown, indent: string, lines: string[], path: string): void {
  const obj = asObject(value, path);
  const start = lines.length;
  printFields(shape, obj, indent + INDENT, lines, path);
  if (lines.length === start) {
    lines.push(`${head}{ }`);
  } else {
    lines.splice(start, 0, `${head}{`);
    lines.push(`${indent}}`);
  }
}

function printRepeated(slot: Slot, value: unknown, indent: string, lines: string[], path: string): void {
  if (!Array.isArray(value)) bad(path, 'must be an array');
  const items = value as unknown[];
  if (items.length === 0) return;
  if (!isMessage(slot)) {
    lines.push(`${indent}${slot.name}: [ ${items.map((v, i) => scalar(slot, v, `${path}[${i}]`)).join(', ')} ]`);
    return;
  }
  lines.push(`${indent}${slot.name} [`);
  items.forEach((item, i) => {
    printMessage(`${indent}${INDENT}`, slot.message!, item, indent + INDENT, lines, `${path}[${i}]`);
    if (i < items.length - 1) lines[lines.length - 1] += ',';
  });
  lines.push(`${indent}]`);
}

function printMap(slot: Slot, value: unknown, indent: string, lines: string[], path: string): void {
  const entry = mapEntryShape(slot);
  for (const [k, v] of Object.entries(asObject(value, path))) {
    if (v === undefined) continue;
    const at = `${path}[${JSON.stringify(k)}]`;
    lines.push(`${indent}${slot.name} {`);
    lines.push(`${indent}${INDENT}key: ${scalar(entry.slots[0], mapKey(entry.slots[0], k, at), at)}`);
    const valueSlot = entry.slots[1];
    if (valueSlot.message) printMessage(`${indent}${INDENT}value `, valueSlot.message, v, indent + INDENT, lines, at);
    else lines.push(`${indent}${INDENT}value: ${scalar(valueSlot, v, at)}`);
    lines.push(`${indent}}`);
  }
}

/** Object keys are strings; integer and bool map keys print unquoted. */
function mapKey(slot: Slot, key: string, path: string): unknown {
  if (slot.type === 'string') return key;
  if (slot.type === 'bool') {
    if (key !== 'true' && key !== 'false') bad(path, 'key must be true or false');
    return key === 'true';
  }
  if (!/^-?\d+$/.test(key)) bad(path, `key must be an integer (${slot.type})`);
  return Number(key);
}

function scalar(slot: Slot, v: unknown, path: string): string {
  if (slot.enumType) {
    if (typeof v === 'string' && Object.hasOwn(slot.enumType.values, v)) return v;
    if (typeof v === 'number' && slot.enumType.valuesById[v] !== undefined) return slot.enumType.valuesById[v];
    return bad(path, `must be one of ${Object.keys(slot.enumType.values).join(', ')}`);
  }
  switch (slot.type) {
    case 'string':
    case 'bytes':
      if (typeof v !== 'string') bad(path, 'must be a string');
      return quote(v as string);
    case 'bool':
      if (typeof v !== 'boolean') bad(path, 'must be a boolean');
      return String(v);
    case 'float':
    case 'double':
      if (typeof v !== 'number') bad(path, 'must be a number');
      return Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v);
    default:
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) bad(path, `must be an integer (${slot.type})`);
      return String(v);
  }
}

/** Double-quoted with C escapes for quotes, backslashes and control characters; other text as is. */
function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) as number;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\${code.toString(8).padStart(3, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function asObject(v: unknown, path: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad(path, 'must be an object');
  return v as Record<string, unknown>;
}

function bad(path: string, what: string): never {
  throw ofsError('OFS_INTERNAL', `cannot print config: ${path} ${what}`);
}
