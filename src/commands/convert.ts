import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { ofsError } from '../errors.js';
import { writeFailed } from './write-failed.js';
import type { Graph } from '../core/graph/ir.js';
import { loadOneflowModel } from '../core/graph/oneflow/index.js';
import { readOnnxModel } from '../core/graph/onnx-reader.js';
import { writeOnnxModel } from '../core/graph/onnx-writer.js';
import { type CalibrationMethod, CALIBRATION_METHODS, rangeCollector } from '../core/graph/passes/calibration.js';
import { type ActivationRange, quantizationTargets, quantizeInt8 } from '../core/graph/passes/quantize-int8.js';
import type { Normalization } from '../image/pixels.js';
import { loadImageTensor } from '../image/preprocess.js';
import { runCalibration } from '../runtime/onnxruntime/calibrate.js';
import { exists } from './exists.js';

export interface ConvertOptions {
  readonly cwd: string;
  /** A OneFlow model folder (the one holding model.mlir), or an ONNX file. */
  readonly modelDir: string;
  readonly to: 'onnx';
  readonly output: string;
  readonly force?: boolean;
  /** Static INT8 quantization in QDQ form, calibrated on the images in `calibration`. */
  readonly quantize?: 'int8';
  readonly calibration?: string;
  readonly calibrationMethod?: CalibrationMethod;
  /** How calibration images are scaled, as `classify --normalize`. */
  readonly normalize?: Normalization;
}

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.bmp', '.avif']);

export interface ConvertResult {
  readonly input: string;
  readonly output: string;
  readonly bytes: number;
  readonly nodes: number;
  readonly initializers: number;
  readonly inputs: ReadonlyArray<{ name: string; datatype: string; shape: readonly number[] }>;
  readonly outputs: ReadonlyArray<{ name: string; datatype: string; shape: readonly number[] }>;
  readonly warnings: readonly string[];
  readonly quantized?: { readonly method: CalibrationMethod; readonly images: number; readonly activations: number; readonly weights: number };
}


/**
 * `ofserve convert MODEL --to onnx -o model.onnx [--quantize int8 --calibration DIR]`: the same lowering
 * the CPU backend runs, optionally quantized to INT8 QDQ.
 */
export async function convert(opts: ConvertOptions): Promise<ConvertResult> {
  if (opts.to !== 'onnx') throw ofsError('OFS_BAD_ARGUMENT', `cannot convert to '${String(opts.to)}': only onnx is supported`);
  checkQuantizeFlags(opts);
  const input = resolve(opts.cwd, opts.modelDir);
  const output = resolve(opts.cwd, opts.output);
  if (!(await exists(input))) throw ofsError('OFS_FILE_NOT_FOUND', input, 'OneFlow model folder or ONNX file');
  if (!opts.force && (await exists(output))) throw ofsError('OFS_FILE_EXISTS', output);
  const calibrationDir = opts.calibration === undefined ? undefined : resolve(opts.cwd, opts.calibration);
  const images = calibrationDir === undefined ? [] : await listImages(calibrationDir);
  const loaded = (await stat(input)).isDirectory()
    ? await loadOneflowModel(input)
    : { graph: readOnnxModel(await readFile(input), input), warnings: [] };
  let graph = loaded.graph;
  const warnings = loaded.warnings;
  let quantized: ConvertResult['quantized'];
  if (opts.quantize === 'int8') {
    const method = opts.calibrationMethod ?? 'minmax';
    const q = await quantize(graph, images, method, opts.normalize ?? 'unit');
    graph = q.graph;
    quantized = { method, images: images.length, activations: q.activations, weights: graph.initializers.filter((i) => i.dtype === 'INT8' && i.shape.length >= 2).length };
  }
  const bytes = writeOnnxModel(graph);
  try {
    await mkdir(dirname(output), { recursive: true });
    await writeFile(output, bytes);
  } catch (e) {
    throw writeFailed(output, e);
  }
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
    ...(quantized ? { quantized } : {}),
  };
}

function checkQuantizeFlags(opts: ConvertOptions): void {
  if (opts.quantize !== undefined && opts.quantize !== 'int8') {
    throw ofsError('OFS_BAD_ARGUMENT', `--quantize ${String(opts.quantize)} is not supported: use --quantize int8`);
  }
  if (opts.quantize === 'int8' && opts.calibration === undefined) {
    throw ofsError('OFS_BAD_ARGUMENT', '--quantize int8 needs --calibration DIR: a folder of images like the ones the model will classify');
  }
  if (opts.quantize === undefined && (opts.calibration !== undefined || opts.calibrationMethod !== undefined)) {
    throw ofsError('OFS_BAD_ARGUMENT', '--calibration and --calibration-method apply only with --quantize int8');
  }
  if (opts.calibrationMethod !== undefined && !CALIBRATION_METHODS.includes(opts.calibrationMethod)) {
    throw ofsError('OFS_BAD_ARGUMENT', `--calibration-method ${String(opts.calibrationMethod)}: use one of ${CALIBRATION_METHODS.join(', ')}`);
  }
}

async function listImages(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw ofsError('OFS_FILE_NOT_FOUND', dir, '--calibration folder');
    throw ofsError('OFS_BAD_ARGUMENT', `--calibration ${dir} is not a readable folder of images (${code ?? 'error'})`);
  }
  const images = entries.filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase())).map((e) => join(dir, e.name)).sort();
  if (images.length === 0) {
    throw ofsError('OFS_BAD_ARGUMENT', `--calibration ${dir} holds no images (${[...IMAGE_EXTENSIONS].join(' ')}); put a few dozen representative images there`);
  }
  return images;
}

async function quantize(graph: Graph, images: readonly string[], method: CalibrationMethod, scale: Normalization): Promise<{ graph: Graph; activations: number }> {
  const input = graph.inputs[0];
  const shape = input?.shape ?? [];
  if (graph.inputs.length !== 1 || !input || input.dtype !== 'FP32' || shape.length !== 4) {
    throw ofsError('OFS_BAD_ARGUMENT', 'INT8 calibration needs a model with one FP32 image input of rank 4 (NCHW or NHWC)');
  }
  const nhwc = shape[3] === 3 && shape[1] !== 3;
  const [height, width] = nhwc ? [shape[1], shape[2]] : [shape[2], shape[3]];
  if (!(height! > 0 && width! > 0)) throw ofsError('OFS_BAD_ARGUMENT', `INT8 calibration needs a fixed image size; input ${input.name} is [${shape.join(', ')}]`);
  const targets = quantizationTargets(graph);
  const collectors = new Map(targets.activations.map((a) => [a, rangeCollector(method)]));
  const layout = nhwc ? 'NHWC' : 'NCHW';
  const inputShape = nhwc ? [1, height!, width!, 3] : [1, 3, height!, width!];
  async function* tensors(): AsyncGenerator<{ data: Float32Array; shape: readonly number[] }> {
    for (const image of images) yield { data: await loadImageTensor(image, { width: width!, height: height!, layout, scale }), shape: inputShape };
  }
  // Graph inputs are fed, not computed: their ranges come from the fed tensors themselves.
  const observed = targets.activations.filter((a) => a !== input.name);
  const model = writeOnnxModel(targets.graph, { extraFp32Outputs: observed });
  await runCalibration(model, input.name, observed, {
    async *[Symbol.asyncIterator]() {
      for await (const t of tensors()) {
        collectors.get(input.name)?.add(t.data);
        yield t;
      }
    },
  }, (name, values) => collectors.get(name)?.add(values));
  const ranges = new Map<string, ActivationRange>([...collectors].map(([name, c]) => [name, c.range()]));
  return { graph: quantizeInt8(targets.graph, ranges), activations: ranges.size };
}

export function formatConvertReport(r: ConvertResult): string {
  const tensors = (list: ConvertResult['inputs']) =>
    list.map((t) => `${t.name} ${t.datatype} [${t.shape.join(', ')}]`).join(', ');
  const lines = [
    `wrote ${r.output} (${(r.bytes / 1e6).toFixed(1)} MB, ${r.nodes} nodes, ${r.initializers} initializers)`,
    `  inputs:  ${tensors(r.inputs)}`,
    `  outputs: ${tensors(r.outputs)}`,
    ...(r.quantized
      ? [`  int8: ${r.quantized.weights} weight tensors per-channel, ${r.quantized.activations} activations calibrated (${r.quantized.method}) on ${r.quantized.images} images`]
      : []),
    ...r.warnings.map((w) => `  warning: ${w}`),
  ];
  return lines.join('\n');
}
