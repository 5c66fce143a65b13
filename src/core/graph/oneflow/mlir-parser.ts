import type { MlirAttr, MlirJob, MlirJobArg, MlirModule, MlirOp, MlirType } from './mlir-ast.js';
import { MlirLexer, type Token } from './mlir-lexer.js';
import { halfToNumber } from '../../tensor/half.js';

/**
 * Recursive-descent parser for the MLIR OneFlow prints with `flow.save(graph, dir)`: a module (braced
 * or implicit) of `oneflow.job` functions whose bodies hold generic-form ops
 * (`%r = "oneflow.relu"(%x) {attrs} : (types) -> types`) and end in `oneflow.return`.
 * Printing differences across OneFlow/MLIR versions (`module  {`, `array<i32: …>` vs `dense<…>`,
 * `<{properties}>`, trailing `loc(…)`, attribute aliases) are accepted here so the importer never
 * sees them.
 */
export function parseMlir(source: string, file = 'model.mlir'): MlirModule {
  return new Parser(new MlirLexer(source, file)).module();
}

/** Parses a type written on its own, e.g. `tensor<1x3xf32>` (used by tests and the writer's checks). */
export function parseMlirType(text: string): MlirType {
  const p = new Parser(new MlirLexer(text, '<type>'));
  return p.typeOnly();
}

/** `1x3x224xf32` → shape and element type; `*xf32` is unranked. */
function parseShapedBody(body: string): { shape: number[] | null; elem: string } | undefined {
  const main = body.split(',')[0]?.trim() ?? '';
  if (main.startsWith('*x')) return { shape: null, elem: main.slice(2) };
  const m = /^((?:(?:[0-9]+|\?)x)*)([A-Za-z][A-Za-z0-9_]*)$/.exec(main.replace(/\s+/g, ''));
  if (!m) return undefined;
  const dims = (m[1] as string).split('x').filter((d) => d !== '');
  return { shape: dims.map((d) => (d === '?' ? -1 : Number(d))), elem: m[2] as string };
}

/** An op with more results than this is not something OneFlow prints. */
const MAX_PACKED_RESULTS = 4096;
/** Attribute values nest a few levels in real files; recursion past this would overflow the stack. */
const MAX_ATTR_DEPTH = 256;

class Parser {
  readonly #lx: MlirLexer;
  #depth = 0;

  constructor(lexer: MlirLexer) {
    this.#lx = lexer;
  }

  // ── helpers ──────────────────────────────────────────────────────────────────────────────────────
  #isPunct(text: string): boolean {
    const t = this.#lx.peek();
    return t.kind === 'punct' && t.text === text;
  }
  #isIdent(text: string): boolean {
    const t = this.#lx.peek();
    return t.kind === 'ident' && t.text === text;
  }
  #eat(text: string): boolean {
    if (this.#isPunct(text)) {
      this.#lx.next();
      return true;
    }
    return false;
  }
  #expect(text: string, context: string): Token {
    const t = this.#lx.peek();
    if (t.kind !== 'punct' || t.text !== text) this.#lx.fail(`expected '${text}' ${context}, found ${describe(t)}`);
    return this.#lx.next();
  }
  #expectKind(kind: Token['kind'], context: string): Token {
    const t = this.#lx.peek();
    if (t.kind !== kind) this.#lx.fail(`expected ${kind === 'percent' ? 'a %value' : kind} ${context}, found ${describe(t)}`);
    return this.#lx.next();
  }
  /** Skips a trailing `loc(...)` debug location. */
  #skipLoc(): void {
    if (this.#isIdent('loc')) {
      this.#lx.next();
      this.#lx.rawParen();
    }
  }

  // ── module and jobs ──────────────────────────────────────────────────────────────────────────────
  module(): MlirModule {
    const jobs: MlirJob[] = [];
    let braced = false;
    this.#skipAliases();
    if (this.#isIdent('module')) {
      this.#lx.next();
      if (this.#lx.peek().kind === 'at') this.#lx.next();
      if (this.#isIdent('attributes')) {
        this.#lx.next();
        this.#dict();
      }
      this.#expect('{', 'to open the module');
      braced = true;
    }
    for (;;) {
      this.#skipAliases();
      const t = this.#lx.peek();
      if (t.kind === 'eof') {
        if (braced) this.#lx.fail("expected '}' to close the module, found end of file");
        break;
      }
      if (braced && this.#isPunct('}')) {
        this.#lx.next();
        this.#skipLoc();
        this.#skipAliases();
        const after = this.#lx.peek();
        if (after.kind !== 'eof') this.#lx.fail(`unexpected ${describe(after)} after the module`);
        break;
      }
      if (t.kind === 'ident' && t.text === 'oneflow.job') jobs.push(this.#job());
      else this.#lx.fail(`expected 'oneflow.job', found ${describe(t)}`);
    }
    return { jobs };
  }

  /** Attribute/type alias definitions (`#loc1 = loc(...)`, `#map = ...`) say nothing about the graph. */
  #skipAliases(): void {
    for (;;) {
      const t = this.#lx.peek();
      if (t.kind !== 'hash' && t.kind !== 'bang') return;
      this.#lx.next();
      this.#expect('=', 'in an alias definition');
      if (t.kind === 'hash') this.#attrValue();
      else this.#type();
    }
  }

  #job(): MlirJob {
    const head = this.#lx.next();
    const name = this.#expectKind('at', 'naming the job').text.slice(1);
    this.#expect('(', 'to open the job arguments');
    const args: MlirJobArg[] = [];
    if (!this.#isPunct(')')) {
      do {
        const arg = this.#expectKind('percent', 'as a job argument').text;
        this.#expect(':', 'after a job argument');
        args.push({ name: arg, type: this.#type() });
        if (this.#isPunct('{')) this.#dict();
        this.#skipLoc();
      } while (this.#eat(','));
    }
    this.#expect(')', 'to close the job arguments');
    let resultTypes: MlirType[] = [];
    if (this.#eat('->')) resultTypes = this.#resultTypeList();
    if (this.#isIdent('attributes')) {
      this.#lx.next();
      this.#dict();
    }
    this.#expect('{', 'to open the job body');
    const ops: MlirOp[] = [];
    let returns: string[] | undefined;
    while (!this.#isPunct('}')) {
      if (this.#lx.peek().kind === 'eof') this.#lx.fail(`job @${name} is not closed with '}'`);
      if (returns) this.#lx.fail(`op after oneflow.return in job @${name}`);
      const op = this.#op();
      if (op.name === 'oneflow.return') returns = [...op.operands];
      else ops.push(op);
    }
    this.#lx.next();
    this.#skipLoc();
    if (!returns) this.#lx.fail(`job @${name} has no oneflow.return`, head);
    return { name, args, resultTypes, ops, returns, line: head.line, column: head.column };
  }

  // ── ops ──────────────────────────────────────────────────────────────────────────────────────────
  #op(): MlirOp {
    const first = this.#lx.peek();
    const results: string[] = [];
    if (first.kind === 'percent') {
      do {
        const r = this.#expectKind('percent', 'as a result').text;
        if (this.#eat(':')) {
          const countTok = this.#expectKind('int', 'as a result count');
          const n = Number(countTok.text);
          // The count is text: `%0:99999999999` must be an error, not billions of result names.
          if (!Number.isSafeInteger(n) || n < 1 || n > MAX_PACKED_RESULTS) {
            this.#lx.fail(`result count ${countTok.text} is not between 1 and ${MAX_PACKED_RESULTS}`, countTok);
          }
          for (let i = 0; i < n; i++) results.push(`${r}#${i}`);
        } else results.push(r);
      } while (this.#eat(','));
      this.#expect('=', 'after the results');
    }
    const start = this.#lx.peek();
    if (start.kind === 'string') return this.#genericOp(results, start);
    if (start.kind === 'ident' && start.text === 'oneflow.return') return this.#returnOp(results, start);
    if (start.kind === 'ident') return this.#customOp(results, start);
    return this.#lx.fail(`expected an op, found ${describe(start)}`);
  }

  #genericOp(results: string[], nameTok: Token): MlirOp {
    this.#lx.next();
    this.#expect('(', `to open the operands of "${nameTok.text}"`);
    const operands: string[] = [];
    if (!this.#isPunct(')')) {
      do operands.push(this.#expectKind('percent', 'as an operand').text);
      while (this.#eat(','));
    }
    this.#expect(')', 'to close the operands');
    if (this.#isPunct('[')) this.#lx.fail(`successors are not supported in "${nameTok.text}"`);
    const attrs = new Map<string, MlirAttr>();
    // Newer MLIR prints inherent attributes as `<{…}>` properties before the discardable ones.
    if (this.#isPunct('<')) {
      this.#lx.next();
      for (const [k, v] of this.#dict()) attrs.set(k, v);
      this.#expect('>', 'to close the properties');
    }
    if (this.#isPunct('(')) this.#lx.fail(`regions are not supported in "${nameTok.text}"`);
    if (this.#isPunct('{')) for (const [k, v] of this.#dict()) attrs.set(k, v);
    this.#expect(':', `before the type of "${nameTok.text}"`);
    const { inputs, outputs } = this.#functionType();
    if (inputs.length !== operands.length) {
      this.#lx.fail(`"${nameTok.text}" has ${operands.length} operands but its type lists ${inputs.length}`, nameTok);
    }
    if (outputs.length !== results.length) {
      this.#lx.fail(`"${nameTok.text}" defines ${results.length} results but its type lists ${outputs.length}`, nameTok);
    }
    this.#skipLoc();
    return {
      name: nameTok.text,
      results,
      operands,
      attrs,
      operandTypes: inputs,
      resultTypes: outputs,
      generic: true,
      line: nameTok.line,
      column: nameTok.column,
    };
  }

  #returnOp(results: string[], nameTok: Token): MlirOp {
    this.#lx.next();
    if (results.length) this.#lx.fail('oneflow.return has no results', nameTok);
    const operands: string[] = [];
    const types: MlirType[] = [];
    if (this.#isPunct('{')) this.#dict();
    if (this.#lx.peek().kind === 'percent') {
      do operands.push(this.#expectKind('percent', 'as a returned value').text);
      while (this.#eat(','));
      this.#expect(':', 'before the returned types');
      do types.push(this.#type());
      while (this.#eat(','));
      if (types.length !== operands.length) this.#lx.fail('oneflow.return lists a different number of types and values', nameTok);
    }
    this.#skipLoc();
    return { name: 'oneflow.return', results: [], operands, attrs: new Map(), operandTypes: types, resultTypes: [], generic: false, line: nameTok.line, column: nameTok.column };
  }

  /**
   * An op in a custom (pretty) form: ofserve knows none, so it is recorded by name and skipped to the
   * end of its line, letting the importer report it as unsupported with its position.
   */
  #customOp(results: string[], nameTok: Token): MlirOp {
    this.#lx.next();
    for (;;) {
      const t = this.#lx.peek();
      if (t.kind === 'eof' || t.line !== nameTok.line) break;
      if (t.kind === 'punct' && t.text === '<') this.#lx.rawAngle();
      else if (t.kind === 'punct' && t.text === '(') this.#lx.rawParen();
      else this.#lx.next();
    }
    return { name: nameTok.text, results, operands: [], attrs: new Map(), operandTypes: [], resultTypes: results.map(() => ({ kind: 'other', text: '?' })), generic: false, line: nameTok.line, column: nameTok.column };
  }

  // ── types ────────────────────────────────────────────────────────────────────────────────────────
  typeOnly(): MlirType {
    const t = this.#type();
    const after = this.#lx.peek();
    if (after.kind !== 'eof') this.#lx.fail(`unexpected ${describe(after)} after the type`);
    return t;
  }

  #functionType(): { inputs: MlirType[]; outputs: MlirType[] } {
    this.#expect('(', 'to open the operand types');
    const inputs: MlirType[] = [];
    if (!this.#isPunct(')')) {
      do inputs.push(this.#type());
      while (this.#eat(','));
    }
    this.#expect(')', 'to close the operand types');
    this.#expect('->', 'between operand and result types');
    return { inputs, outputs: this.#resultTypeList() };
  }

  #resultTypeList(): MlirType[] {
    if (!this.#isPunct('(')) return [this.#type()];
    this.#lx.next();
    const out: MlirType[] = [];
    if (!this.#isPunct(')')) {
      do out.push(this.#type());
      while (this.#eat(','));
    }
    this.#expect(')', 'to close the result types');
    return out;
  }

  #type(): MlirType {
    const t = this.#lx.peek();
    if (t.kind === 'bang') {
      this.#lx.next();
      const body = this.#isPunct('<') ? `<${this.#lx.rawAngle()}>` : '';
      return { kind: 'other', text: t.text + body };
    }
    if (t.kind !== 'ident') return this.#lx.fail(`expected a type, found ${describe(t)}`);
    this.#lx.next();
    if (t.text === 'tensor') {
      const body = this.#lx.rawAngle();
      const shaped = parseShapedBody(body);
      if (!shaped) this.#lx.fail(`cannot read tensor type 'tensor<${body}>'`, t);
      return { kind: 'tensor', shape: shaped.shape, elem: shaped.elem };
    }
    if (this.#isPunct('<')) return { kind: 'other', text: `${t.text}<${this.#lx.rawAngle()}>` };
    return { kind: 'other', text: t.text };
  }

  // ── attributes ───────────────────────────────────────────────────────────────────────────────────
  #dict(): Map<string, MlirAttr> {
    this.#expect('{', 'to open the attributes');
    const out = new Map<string, MlirAttr>();
    while (!this.#isPunct('}')) {
      const k = this.#lx.next();
      if (k.kind !== 'ident' && k.kind !== 'string') this.#lx.fail(`expected an attribute name, found ${describe(k)}`, k);
      if (this.#eat('=')) out.set(k.text, this.#attrValue());
      else out.set(k.text, { kind: 'unit' });
      if (!this.#eat(',')) break;
    }
    this.#expect('}', 'to close the attributes');
    return out;
  }

  #attrValue(): MlirAttr {
    if (this.#depth >= MAX_ATTR_DEPTH) this.#lx.fail(`attribute values nest deeper than ${MAX_ATTR_DEPTH} levels`);
    this.#depth++;
    try {
      return this.#attrValueAt();
    } finally {
      this.#depth--;
    }
  }

  #attrValueAt(): MlirAttr {
    const t = this.#lx.peek();
    if (t.kind === 'punct' && (t.text === '-' || t.text === '+')) {
      this.#lx.next();
      const n = this.#lx.peek();
      if (n.kind !== 'int' && n.kind !== 'float') this.#lx.fail(`expected a number after '${t.text}'`);
      const a = this.#number();
      return t.text === '-' ? { ...a, value: -a.value } : a;
    }
    if (t.kind === 'int' || t.kind === 'float') return this.#number();
    if (t.kind === 'string') {
      this.#lx.next();
      // A typed string (`"…" : i32`) is rare; the type adds nothing here.
      if (this.#eat(':')) this.#type();
      return { kind: 'string', value: t.text };
    }
    if (t.kind === 'punct' && t.text === '[') {
      this.#lx.next();
      const items: MlirAttr[] = [];
      if (!this.#isPunct(']')) {
        do items.push(this.#attrValue());
        while (this.#eat(','));
      }
      this.#expect(']', 'to close the array');
      return { kind: 'array', value: items };
    }
    if (t.kind === 'punct' && t.text === '{') return { kind: 'dict', value: this.#dict() };
    if (t.kind === 'hash') {
      this.#lx.next();
      const body = this.#isPunct('<') ? `<${this.#lx.rawAngle()}>` : '';
      return { kind: 'opaque', text: t.text + body };
    }
    if (t.kind === 'at') {
      this.#lx.next();
      return { kind: 'symbol', value: t.text.slice(1) };
    }
    if (t.kind === 'ident') {
      if (t.text === 'true' || t.text === 'false') {
        this.#lx.next();
        return { kind: 'bool', value: t.text === 'true' };
      }
      if (t.text === 'unit') {
        this.#lx.next();
        return { kind: 'unit' };
      }
      if (t.text === 'dense') return this.#dense();
      if (t.text === 'array') return this.#denseArray();
      if (t.text === 'loc') {
        this.#lx.next();
        return { kind: 'opaque', text: `loc(${this.#lx.rawParen()})` };
      }
      return { kind: 'type', value: this.#type() };
    }
    if (t.kind === 'bang') return { kind: 'type', value: this.#type() };
    return this.#lx.fail(`expected an attribute value, found ${describe(t)}`);
  }

  #number(): Extract<MlirAttr, { kind: 'int' | 'float' }> {
    const t = this.#lx.next();
    let type: string | undefined;
    if (this.#eat(':')) {
      const ty = this.#type();
      type = ty.kind === 'other' ? ty.text : undefined;
    }
    const isFloatType = type !== undefined && /^(f16|bf16|f32|f64)$/.test(type);
    if (t.kind === 'float') return { kind: 'float', value: Number(t.text), type };
    if (t.text.startsWith('0x') && isFloatType) return { kind: 'float', value: hexToFloat(t.text, type as string), type };
    if (isFloatType) return { kind: 'float', value: Number(t.text), type };
    return { kind: 'int', value: Number(t.text), type };
  }

  /** `dense<[1, 1, 0]> : vector<3xi32>`, `dense<1> : vector<3xi32>` (splat). */
  #dense(): MlirAttr {
    this.#lx.next();
    this.#expect('<', "after 'dense'");
    const flat: MlirAttr[] = [];
    let splat = false;
    if (!this.#isPunct('>')) {
      const v = this.#attrValue();
      if (v.kind === 'array') flattenInto(v, flat);
      else {
        splat = true;
        flat.push(v);
      }
    }
    this.#expect('>', 'to close dense<…>');
    this.#expect(':', 'before the type of dense<…>');
    return { kind: 'dense', value: flat, splat, type: this.#type() };
  }

  /** `array<i32: 1, 1, 0, 0>` or `array<i32>`. */
  #denseArray(): MlirAttr {
    this.#lx.next();
    this.#expect('<', "after 'array'");
    const elem = this.#expectKind('ident', 'as the element type of array<…>').text;
    const values: number[] = [];
    if (this.#eat(':')) {
      do {
        const neg = this.#eat('-');
        const n = this.#lx.next();
        if (n.kind === 'ident' && (n.text === 'true' || n.text === 'false')) values.push(n.text === 'true' ? 1 : 0);
        else if (n.kind === 'int' || n.kind === 'float') values.push((neg ? -1 : 1) * Number(n.text));
        else this.#lx.fail(`expected a number in array<…>, found ${describe(n)}`, n);
      } while (this.#eat(','));
    }
    this.#expect('>', 'to close array<…>');
    return { kind: 'dense_array', elem, value: values };
  }
}

function flattenInto(a: MlirAttr, out: MlirAttr[]): void {
  if (a.kind === 'array') for (const x of a.value) flattenInto(x, out);
  else out.push(a);
}

/** MLIR prints a float it cannot round-trip in decimal as its bit pattern in the attribute's own width. */
function hexToFloat(hex: string, type: string): number {
  const bits = BigInt(hex);
  const view = new DataView(new ArrayBuffer(8));
  if (type === 'f64') {
    view.setBigUint64(0, bits);
    return view.getFloat64(0);
  }
  if (type === 'f16') return halfToNumber(Number(bits & 0xffffn));
  // bf16 is the top half of an f32.
  view.setUint32(0, type === 'bf16' ? Number(bits & 0xffffn) << 16 : Number(bits & 0xffffffffn));
  return view.getFloat32(0);
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'end of file';
  if (t.kind === 'string') return `"${t.text}"`;
  return `'${t.text}'`;
}
