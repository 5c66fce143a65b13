import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ofsError } from '../errors.js';
import { loadOneflowModel } from '../core/graph/oneflow/index.js';
import { writeOnnxModel } from '../core/graph/onnx-writer.js';
import { exists } from './exists.js';

export interface ConvertOptions {
  readonly cwd: string;
  /** A OneFlow model folder (the one holding model.mlir). */
  readonly modelDir: string;
  readonly to: 'onnx';
  readonly output: string;
  readonly force?: boolean;
}

export interface ConvertResult {
  readonly input: string;
  readonly output: string;
  readonly bytes: number;
  readonly nodes: number;
  readonly initializers: number;
  readonly inputs: ReadonlyArray<{ name: string; datatype: string; shape: readonly number[] }>;
  readonly outputs: ReadonlyArray<{ name: string; datatype: string; shape: readonly number[] }>;
  readonly warnings: readonly string[];
}


/** `ofserve convert MODEL_DIR --to onnx -o model.onnx`: the same lowering the CPU backend runs. */
export async function convert(opts: ConvertOptions): Promise<ConvertResult> {
  if (opts.to !== 'onnx') throw ofsError('OFS_BAD_ARGUMENT', `cannot convert to '${String(opts.to)}': only onnx is supported`);
  const input = resolve(opts.cwd, opts.modelDir);
  const output = resolve(opts.cwd, opts.output);
  if (!(await exists(input))) throw ofsError('OFS_FILE_NOT_FOUND', input, 'OneFlow model folder');
  if (!opts.force && (await exists(output))) throw ofsError('OFS_FILE_EXISTS', output);
  const { graph, warnings } = await loadOneflowModel(input);
  const bytes = writeOnnxModel(graph);
  await mkdir(dirname(output), { recursive: true });
  await writeFile(output, bytes);
  const io = (v: { name: string; dtype: string; shape: readonly number[] }) => ({ name: v.name, datatype: v.dtype, shape: v.shape });
  return {
    input,
    output,
    bytes: bytes.byteLength,
    nodes: graph.nodes.length,
    initializers: graph.initializers.length,
    inputs: graph.inputs.map(io),
    outputs: graph.outputs.map(io),
    warnings,
  };
}

export function formatConvertReport(r: ConvertResult): string {
  const tensors = (list: ConvertResult['inputs']) =>
    list.map((t) => `${t.name} ${t.datatype} [${t.shape.join(', ')}]`).join(', ');
  const lines = [
    `wrote ${r.output} (${(r.bytes / 1e6).toFixed(1)} MB, ${r.nodes} nodes, ${r.initializers} initializers)`,
    `  inputs:  ${tensors(r.inputs)}`,
    `  outputs: ${tensors(r.outputs)}`,
    ...r.warnings.map((w) => `  warning: ${w}`),
  ];
  return lines.join('\n');
}
