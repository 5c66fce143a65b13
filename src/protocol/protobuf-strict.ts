import { isUtf8 } from 'node:buffer';
import protobuf from 'protobufjs';

/**
 * A strict check of protobuf wire bytes against a protobufjs Type, run before protobufjs decodes them.
 * protobufjs's Node reader clamps a length that runs past the end of the buffer (`0a 50 61` decodes as
 * model_name 'a') and reads a field by its number whatever its wire type (`08 01` sets a string field
 * to ''), so a truncated or mistyped message would be served as a different request. gRPC C++ refuses
 * both at parse time; this walk does the same: every tag's wire type must match the field's type
 * (packed or not for repeated scalars), every length must fit inside its enclosing message, varints end
 * within 10 bytes, strings are UTF-8, groups are refused, and the bytes end exactly at a field boundary.
 * It only skips over payloads (no copies), so it costs O(fields), plus one pass over strings and packed
 * varints.
 */

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** Nested messages deeper than this are refused rather than recursed into (no request type nests so deep). */
const MAX_DEPTH = 64;

const WIRE_TYPE_NAMES = ['varint', '64-bit', 'length-delimited', 'start-group', 'end-group', '32-bit'];

class WireError extends Error {}

/** The wire type a value of protobuf type `type` is written with (2 for strings, bytes and messages). */
function wireTypeOf(type: string, resolved: protobuf.Type | protobuf.Enum | null): number {
  if (resolved instanceof protobuf.Enum) return VARINT;
  if (resolved instanceof protobuf.Type) return LENGTH_DELIMITED;
  const basic = (protobuf.types.basic as Record<string, number | undefined>)[type];
  if (basic === undefined) throw new WireError(`unknown field type '${type}'`);
  return basic;
}

class Walker {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  varint(end: number): number {
    let value = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw new WireError(`truncated varint at offset ${this.pos}`);
      const b = this.bytes[this.pos++];
      // Inexact above 2^53, which only matters for values any bounds check refuses anyway.
      value += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return value;
    }
    throw new WireError(`varint longer than 10 bytes at offset ${this.pos}`);
  }

  skip(n: number, end: number, what: string): void {
    if (n > end - this.pos) throw new WireError(`${what} at offset ${this.pos} needs ${n} bytes, ${end - this.pos} left`);
    this.pos += n;
  }

  /** Skips one value of `wireType`; returns [start, end) of a length-delimited payload. */
  value(wireType: number, end: number, what: string): [number, number] {
    switch (wireType) {
      case VARINT:
        this.varint(end);
        return [this.pos, this.pos];
      case FIXED64:
        this.skip(8, end, what);
        return [this.pos, this.pos];
      case FIXED32:
        this.skip(4, end, what);
        return [this.pos, this.pos];
      case LENGTH_DELIMITED: {
        const length = this.varint(end);
        const start = this.pos;
        this.skip(length, end, what);
        return [start, this.pos];
      }
      default:
        throw new WireError(`${what}: wire type ${wireType} (${WIRE_TYPE_NAMES[wireType] ?? 'invalid'}) is not accepted`);
    }
  }

  /** A field's tag: where it starts, its field number and its wire type. */
  tag(end: number): { tagAt: number; id: number; wireType: number } {
    const tagAt = this.pos;
    const tag = this.varint(end);
    // protobufjs reads tags as uint32; a longer one would name a different field for it than for us.
    if (tag < 8 || tag > 0xffffffff) throw new WireError(`field number out of range at offset ${tagAt}`);
    return { tagAt, id: Math.floor(tag / 8), wireType: tag % 8 };
  }

  message(type: protobuf.Type, end: number, depth: number): void {
    if (depth > MAX_DEPTH) throw new WireError(`messages nested deeper than ${MAX_DEPTH} levels`);
    while (this.pos < end) {
      const { tagAt, id, wireType } = this.tag(end);
      const field = type.fieldsById[id] as protobuf.Field | undefined;
      if (!field) {
        this.value(wireType, end, `unknown field ${id}`);
        continue;
      }
      this.field(field, wireType, end, depth, tagAt);
    }
  }

  field(field: protobuf.Field, wireType: number, end: number, depth: number, tagAt: number): void {
    const what = `field '${field.name}' (${field.id})`;
    if (field.map) {
      if (wireType !== LENGTH_DELIMITED) throw this.mismatch(what, wireType, LENGTH_DELIMITED, tagAt);
      const [start, stop] = this.value(wireType, end, what);
      this.mapEntry(field as unknown as protobuf.MapField, start, stop, depth);
      return;
    }
    const expected = wireTypeOf(field.type, field.resolvedType);
    const packable = field.repeated && expected !== LENGTH_DELIMITED;
    if (packable && wireType === LENGTH_DELIMITED) {
      const [start, stop] = this.value(wireType, end, what);
      this.packed(expected, start, stop, what);
      return;
    }
    if (wireType !== expected) throw this.mismatch(what, wireType, expected, tagAt);
    const [start, stop] = this.value(wireType, end, what);
    this.payload(field.type, field.resolvedType, start, stop, depth, what);
  }

  /** A map entry is a message { key = 1; value = 2 }. */
  mapEntry(field: protobuf.MapField, start: number, stop: number, depth: number): void {
    const saved = this.pos;
    this.pos = start;
    while (this.pos < stop) {
      const { tagAt, id, wireType } = this.tag(stop);
      const what = `${id === 1 ? 'key' : 'value'} of map field '${field.name}'`;
      const [type, resolved] = id === 1 ? [field.keyType, null] : id === 2 ? [field.type, field.resolvedType] : [undefined, null];
      if (type === undefined) {
        this.value(wireType, stop, `unknown field ${id} of map field '${field.name}'`);
        continue;
      }
      const expected = wireTypeOf(type, resolved);
      if (wireType !== expected) throw this.mismatch(what, wireType, expected, tagAt);
      const [s, e] = this.value(wireType, stop, what);
      this.payload(type, resolved, s, e, depth, what);
    }
    this.pos = saved;
  }

  payload(type: string, resolved: protobuf.Type | protobuf.Enum | null, start: number, stop: number, depth: number, what: string): void {
    if (resolved instanceof protobuf.Type) {
      const saved = this.pos;
      this.pos = start;
      this.message(resolved, stop, depth + 1);
      this.pos = saved;
    } else if (type === 'string' && !isUtf8(this.bytes.subarray(start, stop))) {
      throw new WireError(`${what} is not valid UTF-8`);
    }
  }

  packed(elementWireType: number, start: number, stop: number, what: string): void {
    const length = stop - start;
    if (elementWireType === FIXED32 && length % 4 !== 0) throw new WireError(`packed ${what}: ${length} bytes is not a multiple of 4`);
    if (elementWireType === FIXED64 && length % 8 !== 0) throw new WireError(`packed ${what}: ${length} bytes is not a multiple of 8`);
    if (elementWireType === VARINT) {
      // A varint ends at a byte below 0x80: the packed run must end on one, and none may exceed 10 bytes.
      let run = 0;
      for (let i = start; i < stop; i++) {
        run = this.bytes[i] & 0x80 ? run + 1 : 0;
        if (run >= 10) throw new WireError(`packed ${what}: varint longer than 10 bytes`);
      }
      if (run > 0) throw new WireError(`packed ${what}: truncated varint`);
    }
  }

  mismatch(what: string, got: number, expected: number, at: number): WireError {
    return new WireError(
      `${what} at offset ${at} has wire type ${got} (${WIRE_TYPE_NAMES[got] ?? 'invalid'}), expected ${expected} (${WIRE_TYPE_NAMES[expected]})`,
    );
  }
}

/** undefined when `bytes` is a well-formed `type` message, else what is wrong with it. */
export function wireProblem(type: protobuf.Type, bytes: Uint8Array): string | undefined {
  const walker = new Walker(bytes);
  try {
    walker.message(type, bytes.length, 0);
    return undefined;
  } catch (e) {
    if (e instanceof WireError) return e.message;
    throw e;
  }
}
