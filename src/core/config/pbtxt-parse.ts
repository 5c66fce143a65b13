import { ofsError } from '../../errors.js';
import type { ModelConfig } from './model-config.js';
import { describe, tokenize, type Token } from './pbtxt-lexer.js';
import { defaultValue, isDefaultScalar, isMessage, mapEntryShape, shapeOf, type MessageShape, type Slot } from './pbtxt-schema.js';
import { ModelConfigType } from './proto.js';
import { parseScalar, type TokenCursor } from './pbtxt-scalar.js';
import { unknownFieldMessage } from './pbtxt-unknown.js';

/**
 * Parses config.pbtxt (protobuf text format of inference.ModelConfig) into the plain ModelConfig
 * shape. The result follows proto3 presence: singular scalars equal to their zero value and empty
 * repeated fields are left out (Triton cannot tell them from unset either), messages and oneof
 * members are kept even when empty or zero. That makes parse → print → parse lossless.
 */
export function parsePbtxt(text: string, file: string): ModelConfig {
  const parser = new Parser(tokenize(text, file), file);
  return parser.message(shapeOf(ModelConfigType), undefined) as ModelConfig;
}

type Obj = Record<string, unknown>;

class Parser implements TokenCursor {
  private i = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly file: string,
  ) {}

  peek(): Token {
    return this.tokens[this.i];
  }

  next(): Token {
    const t = this.tokens[this.i];
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  isSymbol(text: string): boolean {
    const t = this.peek();
    return t.kind === 'symbol' && t.text === text;
  }

  fail(at: Token, what: string): never {
    throw ofsError('OFS_CONFIG_SYNTAX', this.file, at.line, at.column, what);
  }

  /** Fields up to `close` ('}' or '>'), or to the end of the file for the top-level message. */
  message(shape: MessageShape, open: Token | undefined): Obj {
    const close = open === undefined ? undefined : open.text === '<' ? '>' : '}';
    const out: Obj = {};
    const seen = new Map<string, Token>();
    const oneofs = new Map<string, string>();
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') {
        if (close === undefined) break;
        this.fail(t, `unexpected end of file: expected '${close}' to close ${shape.label} opened at ${open!.line}:${open!.column}`);
      }
      if (close !== undefined && t.kind === 'symbol' && t.text === close) {
        this.next();
        break;
      }
      if (t.kind !== 'ident') {
        const hint = t.text === '[' ? ' (extension and Any fields are not supported)' : '';
        this.fail(t, `expected a field name of ${shape.label}, found ${describe(t)}${hint}`);
      }
      this.next();
      const slot = shape.slot(t.text);
      if (!slot) this.fail(t, unknownFieldMessage(t.text, shape));
      this.checkPresence(slot, t, shape, seen, oneofs);
      this.field(slot, shape, out);
      if (this.isSymbol(',') || this.isSymbol(';')) this.next();
    }
    return out;
  }

  private checkPresence(slot: Slot, name: Token, shape: MessageShape, seen: Map<string, Token>, oneofs: Map<string, string>): void {
    if (slot.repeated) return;
    const first = seen.get(slot.name);
    if (first) {
      this.fail(name, `field \`${slot.name}\` of ${shape.label} is not repeated but is set again (first set at ${first.line}:${first.column})`);
    }
    seen.set(slot.name, name);
    if (slot.oneof === undefined) return;
    const other = oneofs.get(slot.oneof);
    if (other !== undefined) {
      this.fail(name, `fields \`${other}\` and \`${slot.name}\` of ${shape.label} are both set, but only one member of oneof ${slot.oneof} may be`);
    }
    oneofs.set(slot.oneof, slot.name);
  }

  private field(slot: Slot, shape: MessageShape, out: Obj): void {
    const where = `field \`${slot.name}\` of ${shape.label}`;
    if (isMessage(slot)) {
      if (this.isSymbol(':')) this.next();
      const t = this.peek();
      if (t.kind === 'symbol' && t.text === '[') {
        if (!slot.repeated) this.fail(t, `${where} is not repeated; write \`${slot.name} { ... }\` without [ ]`);
        this.list(() => this.messageValue(slot, where, out));
      } else {
        this.messageValue(slot, where, out);
      }
      return;
    }
    const colon = this.next();
    if (colon.kind !== 'symbol' || colon.text !== ':') {
      const hint = colon.text === '{' || colon.text === '<' ? ` (\`${slot.name}\` is a scalar of type ${slot.enumType?.name ?? slot.type}, not a message)` : '';
      this.fail(colon, `expected ':' after ${where}, found ${describe(colon)}${hint}`);
    }
    if (this.isSymbol('[')) {
      if (!slot.repeated) this.fail(this.peek(), `${where} is not repeated; a [ ] list is not allowed`);
      this.list(() => this.store(slot, parseScalar(this, slot, where), out));
    } else {
      this.store(slot, parseScalar(this, slot, where), out);
    }
  }

  /** `[ a, b, … ]` with the opening bracket next; commas between elements are required. */
  private list(element: () => void): void {
    this.next();
    if (this.isSymbol(']')) {
      this.next();
      return;
    }
    for (;;) {
      element();
      const t = this.next();
      if (t.kind === 'symbol' && t.text === ']') return;
      if (t.kind !== 'symbol' || t.text !== ',') this.fail(t, `expected ',' or ']' in a list, found ${describe(t)}`);
    }
  }

  /** One `{ … }` or `< … >` value of a message or map field, stored into `out`. */
  private messageValue(slot: Slot, where: string, out: Obj): void {
    const open = this.next();
    if (open.kind !== 'symbol' || (open.text !== '{' && open.text !== '<')) {
      this.fail(open, `expected '{' after ${where}, found ${describe(open)}`);
    }
    if (slot.mapKey === undefined) {
      this.store(slot, this.message(slot.message!, open), out);
      return;
    }
    const entryShape = mapEntryShape(slot);
    const entry = this.message(entryShape, open);
    const [keySlot, valueSlot] = entryShape.slots;
    const key = String(entry.key ?? defaultValue(keySlot));
    const map = (out[slot.name] ??= {}) as Obj;
    if (Object.hasOwn(map, key)) this.fail(open, `duplicate key ${JSON.stringify(key)} in map \`${slot.name}\``);
    // defineProperty: a key such as "__proto__" must become an ordinary entry.
    Object.defineProperty(map, key, { value: entry.value ?? defaultValue(valueSlot), enumerable: true, writable: true, configurable: true });
  }

  private store(slot: Slot, value: unknown, out: Obj): void {
    if (slot.repeated) ((out[slot.name] ??= []) as unknown[]).push(value);
    else if (!isDefaultScalar(slot, value)) out[slot.name] = value;
  }
}
