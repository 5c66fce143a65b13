import { ofsError } from '../../../errors.js';
import { ONEFLOW_DTYPE_NAMES } from '../../tensor/dtype.js';

/**
 * OneFlow's `VariableMetaInfo` in protobuf text format, the `meta` file beside each variable's `out`:
 *
 *     shape {
 *       dim: 3
 *       dim: 4
 *     }
 *     data_type: kFloat
 *
 * A 0-d variable may print an empty `shape {}` block or none at all; both mean shape [].
 */
export interface VariableMeta {
  readonly shape: readonly number[];
  /** OneFlow DataType number (kFloat = 2); undefined when the file names none. */
  readonly dataType?: number;
}

const NAME_OF_DTYPE = new Map(Object.entries(ONEFLOW_DTYPE_NAMES).map(([k, v]) => [v, k]));

/** Reads the fields ofserve needs and skips any others (text format allows fields in any order). */
export function parseVariableMeta(text: string, path: string): VariableMeta {
  const tokens = text.match(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[{}:;,<>\[\]]|[^\s{}:;,<>\[\]#]+|#[^\n]*/g) ?? [];
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const fail = (what: string): never => {
    throw ofsError('OFS_VARIABLE_INVALID', path, `meta is not a VariableMetaInfo text: ${what}`);
  };
  const dims: number[] = [];
  let dataType: number | undefined;

  // Skips one value (scalar or message) of a field we do not use.
  const skipValue = (): void => {
    if (peek() === ':') i++;
    const open = peek();
    if (open === '{' || open === '<') {
      const close = open === '{' ? '}' : '>';
      let depth = 0;
      do {
        const t = tokens[i++];
        if (t === undefined) fail(`unclosed '${open}'`);
        if (t === open) depth++;
        else if (t === close) depth--;
      } while (depth > 0);
    } else if (open === '[') {
      while (tokens[i] !== undefined && tokens[i] !== ']') i++;
      i++;
    } else i++;
  };

  const readShape = (): void => {
    if (peek() === ':') i++;
    const open = tokens[i++];
    if (open !== '{' && open !== '<') fail("expected '{' after shape");
    const close = open === '{' ? '}' : '>';
    while (peek() !== close) {
      const field = tokens[i++];
      if (field === undefined) fail('unclosed shape block');
      if (field?.startsWith('#')) continue;
      if (field === 'dim') {
        if (tokens[i++] !== ':') fail("expected ':' after dim");
        const v = tokens[i++];
        if (v === undefined || !/^-?[0-9]+$/.test(v)) fail(`dim must be an integer, found '${v ?? 'end of file'}'`);
        dims.push(Number(v));
      } else skipValue();
      if (peek() === ',' || peek() === ';') i++;
    }
    i++;
  };

  while (i < tokens.length) {
    const field = tokens[i++] as string;
    if (field.startsWith('#') || field === ',' || field === ';') continue;
    if (field === 'shape') readShape();
    else if (field === 'data_type') {
      if (tokens[i++] !== ':') fail("expected ':' after data_type");
      const v = tokens[i++];
      if (v === undefined) fail('data_type has no value');
      // hasOwn: `data_type: constructor` must be an unknown name, not Object's constructor function.
      const name = v as string;
      const n = /^[0-9]+$/.test(name) ? Number(name) : Object.hasOwn(ONEFLOW_DTYPE_NAMES, name) ? ONEFLOW_DTYPE_NAMES[name] : undefined;
      if (n === undefined) fail(`unknown data_type '${v}'`);
      dataType = n;
    } else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) skipValue();
    else fail(`unexpected '${field}'`);
  }
  return { shape: dims, dataType };
}

/** The text OneFlow's `text_format.MessageToString` gives for a VariableMetaInfo. */
export function formatVariableMeta(shape: readonly number[], dataType: number): string {
  const name = NAME_OF_DTYPE.get(dataType);
  if (name === undefined) throw ofsError('OFS_INTERNAL', `no OneFlow data_type name for ${dataType}`);
  const dims = shape.map((d) => `  dim: ${d}\n`).join('');
  return `shape {\n${dims}}\ndata_type: ${name}\n`;
}
