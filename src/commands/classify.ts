import { resolve } from 'node:path';
import chalk from 'chalk';
import { ofsError } from '../errors.js';
import { createInferenceClient, parseProtocol, type InferenceClient } from '../client/inference-client.js';
import { maxBatchSizeOf, modelConfigOrUndefined } from '../client/model-info.js';
import { inferInput } from '../client/infer-input.js';
import { inferImageShape, type ImageInputShape } from '../image/image-shape.js';
import type { Normalization } from '../image/pixels.js';
import { checkImageFile, loadImageTensor } from '../image/preprocess.js';
import { renderTable } from './print.js';

export interface ClassifyOptions {
  readonly images: readonly string[];
  /** How many classes per image (Triton's class_count); default 3. */
  readonly top?: number;
  /** Default: the only model in the repository index, else the first READY one. */
  readonly model?: string;
  readonly version?: string;
  /** Default localhost:8000 (HTTP) or localhost:8001 (gRPC). */
  readonly url?: string;
  /** -i: 'http' (default) or 'grpc'. */
  readonly protocol?: string;
  /** Default 'unit' (÷255, the reference client's preprocessing). */
  readonly normalize?: Normalization;
  /** Image paths are relative to this folder. */
  readonly cwd: string;
  readonly timeoutMs?: number;
  /** Called after each request with the images classified so far (the terminal's progress bar). */
  readonly onProgress?: (done: number, total: number, model: string) => void;
}

export interface Prediction {
  readonly rank: number;
  readonly score: number;
  readonly index: number;
  /** Absent when the output has no label file. */
  readonly label?: string;
}

export interface ImageClassification {
  /** The path as the user gave it. */
  readonly image: string;
  readonly predictions: Prediction[];
}

export interface ClassifyResult {
  readonly url: string;
  readonly model: string;
  readonly version?: string;
  readonly output: string;
  readonly images: ImageClassification[];
}

export const DEFAULT_TOP = 3;

/**
 * Classifies images against a running server, over HTTP or gRPC (-i): reads the model's metadata and
 * config, preprocesses each image to the input's size and layout, sends them batched up to
 * max_batch_size (one per request, with no batch dim, when the model does not batch) and asks for
 * Triton's classification output on the model's first output.
 */
export async function classify(opts: ClassifyOptions): Promise<ClassifyResult> {
  const top = opts.top ?? DEFAULT_TOP;
  if (!Number.isInteger(top) || top < 1) throw ofsError('OFS_BAD_ARGUMENT', `--top must be a positive integer, got ${top}`);
  if (opts.images.length === 0) throw ofsError('OFS_BAD_ARGUMENT', 'give at least one image to classify');
  // A typo in a file name is reported as such, not as whatever the server (or its absence) says first.
  for (const image of opts.images) await checkImageFile(resolve(opts.cwd, image));

  const client = createInferenceClient(parseProtocol(opts.protocol), { url: opts.url, timeoutMs: opts.timeoutMs });
  try {
    return await classifyWith(client, opts, top);
  } finally {
    client.close();
  }
}

async function classifyWith(client: InferenceClient, opts: ClassifyOptions, top: number): Promise<ClassifyResult> {
  const model = opts.model ?? (await pickModel(client));
  const metadata = await client.getModelMetadata(model, opts.version);
  const config = await modelConfigOrUndefined(client, model, opts.version);

  const shape = inferImageShape(config?.input?.length ? config : metadata, model);
  if (shape.datatype !== 'FP32') {
    throw ofsError('OFS_NOT_IMAGE_MODEL', model, `input '${shape.inputName}' is ${shape.datatype}; classify sends FP32`);
  }
  const output = metadata.outputs[0]?.name;
  if (!output) throw ofsError('OFS_NOT_IMAGE_MODEL', model, 'it declares no outputs');
  const maxBatch = maxBatchSizeOf(metadata, config);
  const chunkSize = maxBatch > 0 ? maxBatch : 1;

  const images: ImageClassification[] = [];
  let version: string | undefined;
  for (let start = 0; start < opts.images.length; start += chunkSize) {
    const chunk = opts.images.slice(start, start + chunkSize);
    const tensors = await Promise.all(
      chunk.map((image) =>
        loadImageTensor(resolve(opts.cwd, image), {
          width: shape.width,
          height: shape.height,
          layout: shape.layout,
          scale: opts.normalize ?? 'unit',
        }),
      ),
    );
    const result = await client.infer(model, [inferInput(shape.inputName, 'FP32', requestShape(shape, maxBatch, chunk.length), concat(tensors))], {
      version: opts.version,
      outputs: [{ name: output, classCount: top }],
    });
    version ??= result.modelVersion;
    const strings = result.asStrings(output);
    const perImage = splitRows(strings, chunk.length, client.url);
    chunk.forEach((image, i) => images.push({ image, predictions: perImage[i].map((s, r) => parseClassification(s, r + 1, client.url)) }));
    opts.onProgress?.(images.length, opts.images.length, model);
  }
  return { url: client.url, model, version, output, images };
}

/** The model to use when --model is not given: the only one listed, else the first READY one. */
async function pickModel(client: InferenceClient): Promise<string> {
  const index = await client.getModelRepositoryIndex();
  const names = [...new Set(index.map((m) => m.name))];
  if (names.length === 1) return names[0];
  const ready = index.find((m) => m.state === 'READY');
  if (ready) return ready.name;
  const listed = names.length === 0 ? 'no models' : `models ${names.join(', ')} but none is READY`;
  throw ofsError('OFS_BAD_ARGUMENT', `the server at ${client.url} lists ${listed}; pass --model NAME`);
}

function requestShape(shape: ImageInputShape, maxBatch: number, count: number): number[] {
  if (maxBatch > 0) return [count, ...shape.imageDims];
  return shape.leadingDim ? [1, ...shape.imageDims] : [...shape.imageDims];
}

function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Classification strings come row-major, k per image. */
function splitRows(strings: string[], images: number, url: string): string[][] {
  if (strings.length % images !== 0) {
    throw ofsError('OFS_BAD_RESPONSE', url, `${strings.length} classification results do not split over ${images} images`);
  }
  const k = strings.length / images;
  return Array.from({ length: images }, (_, i) => strings.slice(i * k, (i + 1) * k));
}

/**
 * Parses Triton's `"<score>:<index>[:<label>]"`. Only the first two colons separate fields: labels such
 * as "n02123045: tabby, tabby cat" keep theirs.
 */
export function parseClassification(text: string, rank: number, url = 'the server'): Prediction {
  const first = text.indexOf(':');
  const second = first < 0 ? -1 : text.indexOf(':', first + 1);
  const scoreText = first < 0 ? text : text.slice(0, first);
  const indexText = first < 0 ? '' : second < 0 ? text.slice(first + 1) : text.slice(first + 1, second);
  const score = Number(scoreText);
  const index = Number(indexText);
  if (scoreText.trim() === '' || !Number.isFinite(score) || !/^\d+$/.test(indexText)) {
    throw ofsError('OFS_BAD_RESPONSE', url, `classification result '${text}' is not "<score>:<index>[:<label>]"`);
  }
  return second < 0 ? { rank, score, index } : { rank, score, index, label: text.slice(second + 1) };
}

/** One table per image: rank, score, class index, label. */
export function formatClassifyTable(result: ClassifyResult): string {
  const heading = chalk.dim(`model ${result.model}${result.version ? ` version ${result.version}` : ''} at ${result.url}`);
  const blocks = result.images.map((img) => {
    const table = renderTable(
      img.predictions,
      [
        { header: 'rank', value: (p) => p.rank, align: 'right' },
        { header: 'score', value: (p) => p.score.toFixed(6), align: 'right' },
        { header: 'class', value: (p) => p.index, align: 'right' },
        { header: 'label', value: (p) => p.label ?? '', style: (t, p) => (p.rank === 1 ? chalk.green(t) : t) },
      ],
      '  ',
    );
    return `${chalk.bold.cyan(img.image)}\n${table}`;
  });
  return [heading, ...blocks].join('\n\n');
}
