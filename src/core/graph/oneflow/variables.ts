import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type OfsError, ofsError, toOfsError } from '../../../errors.js';
import { dtypeFromOneflow, dtypeFromWire, elementCount, type WireDatatype } from '../../tensor/dtype.js';
import type { Initializer } from '../ir.js';
import type { MlirJob, MlirOp } from './mlir-ast.js';
import { OpAttrs, asTensorType, elemToWire } from './mlir-attrs.js';
import { formatVariableMeta, parseVariableMeta } from './variable-meta.js';

/**
 * Variables of a saved graph: declared by `oneflow.variable` ops in model.mlir (their `op_name` names
 * the folder), stored as `<op_name>/out` (raw little-endian bytes, C order, no header) beside
 * `<op_name>/meta`. The MLIR op is the authority on shape and type; `meta` must agree with it.
 */
export interface VariableDecl {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: WireDatatype;
  /** OneFlow DataType number. */
  readonly dataType: number;
  /** The SSA value the op defines. */
  readonly ssa: string;
  readonly line: number;
  readonly column: number;
}

const META_FILENAME = 'meta';
const DATA_FILENAME = 'out';

/** Reads one `oneflow.variable` op's declaration, checking its attributes against its result type. */
export function variableDecl(op: MlirOp, file: string): VariableDecl {
  const a: OpAttrs = new OpAttrs(op, file);
  const name = a.opName();
  if (!name) a.fail('a variable needs an op_name (it names the variable folder)');
  if (name === '.' || name === '..' || /[/\\]/.test(name)) a.fail(`op_name '${name}' cannot name a folder`);
  const type = asTensorType(op.resultTypes[0]);
  if (!type || type.shape === null || type.shape.some((d) => d < 0)) a.fail('a variable must have a static tensor type');
  const typeDtype = elemToWire(type.elem);
  const attrShape = a.intsOrUndefined('shape');
  if (attrShape && attrShape.join(',') !== type.shape.join(',')) {
    a.fail(`shape [${attrShape.join(', ')}] disagrees with its type [${type.shape.join(', ')}]`);
  }
  let dtype = typeDtype;
  let dataType = typeDtype ? dtypeFromWire(typeDtype)?.oneflow : undefined;
  if (a.has('data_type')) {
    dataType = a.int('data_type');
    const fromAttr = dtypeFromOneflow(dataType)?.wire;
    if (!fromAttr) a.fail(`data_type ${dataType} is not a type ofserve can load`);
    if (typeDtype && fromAttr !== typeDtype) a.fail(`data_type ${dataType} disagrees with element type ${type.elem}`);
    dtype = fromAttr;
  }
  if (!dtype || dataType === undefined) a.fail(`element type ${type.elem} is not a type ofserve can load`);
  return { name, shape: type.shape, dtype, dataType, ssa: op.results[0] as string, line: op.line, column: op.column };
}

export function jobVariables(job: MlirJob, file: string): VariableDecl[] {
  return job.ops.filter((op) => op.name === 'oneflow.variable').map((op) => variableDecl(op, file));
}

/** Variables some non-variable op reads (a traced BatchNorm's `num_batches_tracked` is not). */
export function usedVariableNames(job: MlirJob, decls: readonly VariableDecl[]): Set<string> {
  const bySsa = new Map(decls.map((d) => [d.ssa, d.name]));
  const used = new Set<string>();
  for (const op of job.ops) {
    for (const o of op.operands) {
      const name = bySsa.get(o);
      if (name !== undefined) used.add(name);
    }
  }
  for (const r of job.returns) {
    const name = bySsa.get(r);
    if (name !== undefined) used.add(name);
  }
  return used;
}

function itemSize(dtype: WireDatatype): number {
  return dtypeFromWire(dtype)?.itemSize ?? 0;
}

/** Path of a variable file as reported in messages: `<model dir>/<name>/<file>`. */
export function variablePath(modelDir: string, name: string, file?: string): string {
  return file ? join(modelDir, name, file) : join(modelDir, name);
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every problem with one variable's folder, without reading `out`: folder and files present, `out`
 * of exactly prod(shape) × itemsize bytes, `meta` agreeing on shape and type.
 */
export async function checkVariableFiles(modelDir: string, decl: VariableDecl): Promise<OfsError[]> {
  const errors: OfsError[] = [];
  const folder = variablePath(modelDir, decl.name);
  try {
    if (!(await stat(folder)).isDirectory()) return [ofsError('OFS_VARIABLE_INVALID', folder, 'is a file, expected a folder holding meta and out')];
  } catch {
    return [ofsError('OFS_VARIABLE_INVALID', folder, `folder is missing (model.mlir declares variable '${decl.name}' at line ${decl.line})`)];
  }
  const outPath = variablePath(modelDir, decl.name, DATA_FILENAME);
  const expected = elementCount(decl.shape) * itemSize(decl.dtype);
  const size = await fileSize(outPath);
  if (size === undefined) errors.push(ofsError('OFS_VARIABLE_INVALID', outPath, 'file is missing'));
  else if (size !== expected) {
    errors.push(
      ofsError(
        'OFS_VARIABLE_INVALID',
        outPath,
        `holds ${size} bytes, expected ${expected} (shape [${decl.shape.join(', ')}] of ${decl.dtype}, ${itemSize(decl.dtype)} bytes each)`,
      ),
    );
  }
  const metaPath = variablePath(modelDir, decl.name, META_FILENAME);
  let metaText: string | undefined;
  try {
    metaText = await readFile(metaPath, 'utf8');
  } catch {
    errors.push(ofsError('OFS_VARIABLE_INVALID', metaPath, 'file is missing'));
  }
  if (metaText !== undefined) {
    try {
      const meta = parseVariableMeta(metaText, metaPath);
      if (meta.shape.join(',') !== decl.shape.join(',')) {
        errors.push(
          ofsError('OFS_VARIABLE_INVALID', metaPath, `shape [${meta.shape.join(', ')}] disagrees with model.mlir [${decl.shape.join(', ')}]`),
        );
      }
      if (meta.dataType !== undefined && meta.dataType !== decl.dataType) {
        const got = dtypeFromOneflow(meta.dataType)?.wire ?? `data_type ${meta.dataType}`;
        errors.push(ofsError('OFS_VARIABLE_INVALID', metaPath, `type ${got} disagrees with model.mlir (${decl.dtype})`));
      }
    } catch (e) {
      errors.push(toOfsError(e));
    }
  }
  return errors;
}

/** Reads a variable as an initializer named by its op_name; throws the first problem. */
export async function readVariable(modelDir: string, decl: VariableDecl): Promise<Initializer> {
  const errors = await checkVariableFiles(modelDir, decl);
  if (errors.length) throw errors[0];
  const bytes = await readFile(variablePath(modelDir, decl.name, DATA_FILENAME));
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { name: decl.name, dtype: decl.dtype, shape: [...decl.shape], data };
}

/** Writes `<dir>/<name>/meta` and `<dir>/<name>/out` the way flow.save does. */
export async function writeVariable(modelDir: string, init: Initializer): Promise<void> {
  const dataType = dtypeFromWire(init.dtype)?.oneflow;
  if (dataType === undefined) throw ofsError('OFS_GRAPH_INVALID', `initializer ${init.name}: OneFlow has no ${init.dtype} variables`);
  if (!init.name || init.name === '.' || init.name === '..' || /[/\\]/.test(init.name)) {
    throw ofsError('OFS_GRAPH_INVALID', `initializer name '${init.name}' cannot name a OneFlow variable folder`);
  }
  const expected = elementCount(init.shape) * itemSize(init.dtype);
  if (init.data.byteLength !== expected) {
    throw ofsError('OFS_GRAPH_INVALID', `initializer ${init.name} holds ${init.data.byteLength} bytes, expected ${expected}`);
  }
  const folder = variablePath(modelDir, init.name);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, META_FILENAME), formatVariableMeta(init.shape, dataType));
  await writeFile(join(folder, DATA_FILENAME), init.data);
}
