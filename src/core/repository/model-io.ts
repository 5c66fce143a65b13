import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isOfsError } from '../../errors.js';
import type { ModelSource } from '../backend.js';
import type { Graph } from '../graph/ir.js';
import { readOnnxModel } from '../graph/onnx-reader.js';
import { inspectOneflowModel, loadOneflowModel } from '../graph/oneflow/index.js';
import type { Problem } from '../problem.js';
import type { ModelPayload } from './payload.js';

/**
 * Reads a payload's graph to learn its real inputs and outputs. Every failure is a Problem on the
 * payload's file, so validate can go on with the next model.
 */
export async function readModelIO(payload: ModelPayload): Promise<{ graph?: Graph; problems: Problem[] }> {
  if (payload.kind === 'oneflow') {
    const { graph, problems } = await inspectOneflowModel(payload.path);
    return { graph, problems: problems.map((p) => ({ ...p, file: showInside(payload, p.file) })) };
  }
  try {
    const bytes = await readFile(payload.path);
    return { graph: readOnnxModel(bytes, payload.file), problems: [] };
  } catch (e) {
    if (isOfsError(e)) return { problems: [{ severity: 'error', file: payload.file, message: e.message, fix: e.fix }] };
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT' || code === 'EISDIR') {
      return {
        problems: [{ severity: 'error', file: payload.file, message: `cannot find the model file ${payload.file}`, fix: 'put the ONNX model there' }],
      };
    }
    // Permissions, a link loop, …: still this model's problem, not a reason to abandon the others.
    if (typeof code === 'string') {
      return {
        problems: [{ severity: 'error', file: payload.file, message: `cannot read the model file ${payload.file}: ${(e as Error).message.split('\n')[0]}`, fix: 'make it a readable file' }],
      };
    }
    throw e;
  }
}

/**
 * What a backend builds sessions from. `validated` is the graph validation already read (for OneFlow,
 * imported with its weights), so a load right after validate does not read the payload twice; an ONNX
 * payload's bytes are read again because onnxruntime takes the original file, not a re-serialization.
 */
export async function readModelSource(model: string, version: string, payload: ModelPayload, validated?: Graph): Promise<ModelSource> {
  if (payload.kind === 'onnx') {
    const bytes = new Uint8Array(await readFile(payload.path));
    return { model, version, graph: validated ?? readOnnxModel(bytes, payload.file), onnx: bytes };
  }
  return { model, version, graph: validated ?? (await loadOneflowModel(payload.path)).graph };
}

/**
 * The OneFlow inspector names files by absolute path or relative to the model folder; show them
 * relative to the store like every other problem.
 */
function showInside(payload: ModelPayload, file: string): string {
  const abs = path.isAbsolute(file) ? file : path.join(payload.path, file);
  const rel = path.relative(payload.path, abs);
  if (rel === '') return payload.file;
  if (rel.startsWith('..')) return file;
  return [payload.file, ...rel.split(path.sep)].join('/');
}
