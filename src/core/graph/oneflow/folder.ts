import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type OfsError, ofsError, toOfsError } from '../../../errors.js';
import { ONEFLOW_MLIR_FILENAME } from '../../config/constants.js';
import type { Problem } from '../../problem.js';
import type { Graph, Initializer, ValueInfo } from '../ir.js';
import { firstJob, importOneflowJob, jobIO, unsupportedOps } from './importer.js';
import type { MlirJob } from './mlir-ast.js';
import { parseMlir } from './mlir-parser.js';
import { type VariableDecl, checkVariableFiles, jobVariables, readVariable, usedVariableNames, variableDecl, variablePath } from './variables.js';

/**
 * A OneFlow `model` folder on disk: what kind of thing it is, loading it, and listing everything
 * wrong with it. `flow.save` writes very different things for a graph and for any other object
 * (a pickle, or a folder with `pickled_data`), and users mix them up, so each gets its own message.
 */

export type OneflowFolderKind =
  /** model.mlir beside variable folders: what flow.save(graph, dir) writes. */
  | 'graph'
  | 'missing'
  /** A pickled graph.runtime_state_dict() (OneFlow-Serving's Python backend format). */
  | 'runtime-state-dict'
  /** Tensors saved with flow.save(state_dict): a pickle, a pickled_data folder, or a legacy snapshot. */
  | 'state-dict'
  /** A folder without model.mlir that is none of the above. */
  | 'no-mlir'
  /** A file that is not a pickle. */
  | 'not-a-folder';

const PICKLE_FILENAME = 'pickled_data';
const SNAPSHOT_DONE_FILENAME = 'snapshot_done';
/** Keys only graph.runtime_state_dict() writes; pickles keep dict keys as plain text. */
const RUNTIME_STATE_DICT_MARKERS = ['exe_plan', 'graph_name', 'oneflow_version'];
const SNIFF_BYTES = 1 << 20;

async function sniff(path: string): Promise<Buffer | undefined> {
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(SNIFF_BYTES);
      const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}

/** Pickle protocol ≥ 2 starts with PROTO (0x80) and its version. */
const isPickle = (b: Buffer): boolean => b.length >= 2 && b[0] === 0x80 && (b[1] as number) <= 5;
const isRuntimeStateDict = (b: Buffer): boolean => RUNTIME_STATE_DICT_MARKERS.some((m) => b.includes(m));

async function kindOf(path: string): Promise<'dir' | 'file' | undefined> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/** Says what `dir` (a version's `model` path) holds, reading at most the start of one pickle. */
export async function detectOneflowFolder(dir: string): Promise<OneflowFolderKind> {
  const kind = await kindOf(dir);
  if (kind === undefined) return 'missing';
  if (kind === 'file') {
    const head = await sniff(dir);
    if (!head || !isPickle(head)) return 'not-a-folder';
    return isRuntimeStateDict(head) ? 'runtime-state-dict' : 'state-dict';
  }
  if ((await kindOf(join(dir, ONEFLOW_MLIR_FILENAME))) === 'file') return 'graph';
  if ((await kindOf(join(dir, PICKLE_FILENAME))) === 'file') {
    const head = await sniff(join(dir, PICKLE_FILENAME));
    return head && isRuntimeStateDict(head) ? 'runtime-state-dict' : 'state-dict';
  }
  if ((await kindOf(join(dir, SNAPSHOT_DONE_FILENAME))) === 'file') return 'state-dict';
  const entries = await readdir(dir, { withFileTypes: true });
  const dirs = entries.filter((e) => e.isDirectory());
  if (dirs.length > 0 && (await Promise.all(dirs.map((d) => kindOf(join(dir, d.name, 'out'))))).every((k) => k === 'file')) {
    return 'state-dict';
  }
  return 'no-mlir';
}

/** The error for a folder that cannot hold a graph, or undefined for a graph folder. */
function kindError(dir: string, kind: OneflowFolderKind): OfsError | undefined {
  switch (kind) {
    case 'graph':
      return undefined;
    case 'missing':
      return ofsError('OFS_ONEFLOW_MODEL_MISSING', dir);
    case 'runtime-state-dict':
      return ofsError('OFS_RUNTIME_STATE_DICT', dir);
    case 'state-dict':
      return ofsError('OFS_ONEFLOW_STATE_DICT', dir);
    case 'no-mlir':
      return ofsError('OFS_ONEFLOW_MLIR_MISSING', dir);
    case 'not-a-folder':
      return ofsError('OFS_MODEL_FORMAT', dir, 'expected a folder written by flow.save(graph, dir), found a file');
  }
}

async function readJob(dir: string): Promise<{ job: MlirJob; file: string }> {
  const error = kindError(dir, await detectOneflowFolder(dir));
  if (error) throw error;
  const file = join(dir, ONEFLOW_MLIR_FILENAME);
  const text = await readFile(file, 'utf8');
  return { job: firstJob(parseMlir(text, file), file), file };
}

async function loadVariables(dir: string, decls: readonly VariableDecl[], used: ReadonlySet<string>): Promise<Map<string, Initializer>> {
  const map = new Map<string, Initializer>();
  for (const d of decls) if (used.has(d.name)) map.set(d.name, await readVariable(dir, d));
  return map;
}

/** Loads a `model` folder written by flow.save(graph, dir); throws the first problem. */
export async function loadOneflowModel(dir: string): Promise<{ graph: Graph; warnings: string[] }> {
  const { job, file } = await readJob(dir);
  const unsupported = unsupportedOps(job, file);
  if (unsupported.length > 0) throw unsupported[0];
  const decls = jobVariables(job, file);
  const variables = await loadVariables(dir, decls, usedVariableNames(job, decls));
  return importOneflowJob(job, { file, variables });
}

/** Graph IO from model.mlir alone (no weights read, no ops converted). */
export async function readOneflowGraphIO(dir: string): Promise<{ inputs: ValueInfo[]; outputs: ValueInfo[] }> {
  const { job, file } = await readJob(dir);
  return jobIO(job, file);
}

function problem(e: unknown, file: string, severity: Problem['severity'] = 'error', field?: string): Problem {
  const err = toOfsError(e);
  return { severity, file, field, message: err.message, fix: err.fix };
}

/**
 * Every problem with a `model` folder at once (for `ofserve validate`), and the graph when there is
 * no error. Warnings: folders no variable names, unused variables that are missing or broken,
 * normalization saved in training mode.
 */
export async function inspectOneflowModel(dir: string): Promise<{ graph?: Graph; problems: Problem[] }> {
  const kindErr = kindError(dir, await detectOneflowFolder(dir));
  if (kindErr) return { problems: [problem(kindErr, dir)] };

  const file = join(dir, ONEFLOW_MLIR_FILENAME);
  let job: MlirJob;
  try {
    job = firstJob(parseMlir(await readFile(file, 'utf8'), file), file);
  } catch (e) {
    return { problems: [problem(e, file)] };
  }

  const problems: Problem[] = unsupportedOps(job, file).map((e) => problem(e, file));
  const decls: VariableDecl[] = [];
  for (const op of job.ops.filter((o) => o.name === 'oneflow.variable')) {
    try {
      decls.push(variableDecl(op, file));
    } catch (e) {
      problems.push(problem(e, file));
    }
  }
  const used = usedVariableNames(job, decls);
  for (const d of decls) {
    const errors = await checkVariableFiles(dir, d);
    const severity = used.has(d.name) ? 'error' : 'warning';
    for (const e of errors) {
      const p = problem(e, variablePath(dir, d.name), severity, d.name);
      problems.push(severity === 'error' ? p : { ...p, message: `${p.message} (the graph does not read this variable, so it is ignored)` });
    }
  }
  const declared = new Set(decls.map((d) => d.name));
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && !declared.has(entry.name)) {
      problems.push({
        severity: 'warning',
        file: join(dir, entry.name),
        message: `folder '${entry.name}' is not a variable of ${ONEFLOW_MLIR_FILENAME}; it is ignored`,
        fix: 'remove it, or re-save the model with flow.save(graph, dir) if it should be a variable',
      });
    }
  }
  if (problems.some((p) => p.severity === 'error')) return { problems };

  try {
    const variables = await loadVariables(dir, decls, used);
    const { graph, warnings } = importOneflowJob(job, { file, variables });
    for (const w of warnings) problems.push({ severity: 'warning', file, message: w });
    return { graph, problems };
  } catch (e) {
    problems.push(problem(e, file));
    return { problems };
  }
}
