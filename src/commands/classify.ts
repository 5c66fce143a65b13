import { resolve } from 'node:path';
import chalk from 'chalk';
import { isOfsError, ofsError } from '../errors.js';
import type { ModelConfig } from '../core/config/model-config.js';
import { createInferenceClient, parseProtocol, type InferenceClient } from '../client/inference-client.js';
import { maxBatchSizeOf, modelConfigOrUndefined } from '../client/model-info.js';
import { inferInput, type InferInput } from '../client/infer-input.js';
import type { ModelMetadata } from '../client/v2-types.js';
import { inferImageShape, parseImageSize, type ImageInputShape, type ImageSize } from '../image/image-shape.js';
import type { Normalization } from '../image/pixels.js';
import { checkImageFile, loadImageTensor, RESIZE_MODES, type ResizeMode } from '../image/preprocess.js';
import { chooseModel, isClassifyDefault, outputsOf, pickOutput, type ModelCandidate } from './classify-choice.js';
import { encodedImageInput, encodedImagesInput } from './encoded-images.js';
import { renderTable } from './print.js';

export interface ClassifyOptions {
  readonly images: readonly string[];
  /** How many classes per image (Triton's class_count); default 3. */
  readonly top?: number;
  /** Default: see chooseModel (the only READY model, else the only one that classifies, else the marked default). */
  readonly model?: string;
  readonly version?: string;
  /** Output to classify; default: see pickOutput (the labelled one, else the only class-score-shaped one). */
  readonly output?: string;
  /** Default localhost:8000 (HTTP) or localhost:8001 (gRPC). */
  readonly url?: string;
  /** -i: 'http' (default) or 'grpc'. */
  readonly protocol?: string;
  /** Default 'unit' (÷255, the reference client's preprocessing). */
  readonly normalize?: Normalization;
  /** `HxW` for a model whose height or width is variable; default 224x224. */
  readonly size?: string;
  /** Default 'squash' (the reference client's). */
  readonly resize?: ResizeMode;
  /** Largest photo decoded, in pixels; 0 for no limit. */
  readonly maxImagePixels?: number;
  /** Send each file's own bytes (a BYTES input) to a model that decodes images on the server. */
  readonly sendImage?: boolean;
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
  /** The size images were resized to, `HxW`. */
  readonly size: string;
  /** 'model': the model fixes it; 'option': --size; 'default': 224x224 for a variable size; 'server': --send-image. */
  readonly size_from: 'model' | 'option' | 'default' | 'server';
  readonly resize: ResizeMode | 'server';
  /** Choices made for the user (which model, which size), one sentence each. */
  readonly notes: string[];
  readonly images: ImageClassification[];
}

export const DEFAULT_TOP = 3;

/**
 * Classifies images against a running server, over HTTP or gRPC (-i): picks the model and output (see
 * classify-choice.ts), reads the model's metadata and config, preprocesses each image to the input's
 * size and layout, sends them batched up to max_batch_size (one per request, with no batch dim, when the
 * model does not batch) and asks for Triton's classification output.
 */
export async function classify(opts: ClassifyOptions): Promise<ClassifyResult> {
  const top = opts.top ?? DEFAULT_TOP;
  if (!Number.isInteger(top) || top < 1) throw ofsError('OFS_BAD_ARGUMENT', `--top must be a positive integer, got ${top}`);
  if (opts.images.length === 0) throw ofsError('OFS_BAD_ARGUMENT', 'give at least one image to classify');
  const resize = opts.resize ?? 'squash';
  if (!RESIZE_MODES.includes(resize)) throw ofsError('OFS_BAD_ARGUMENT', `--resize must be ${RESIZE_MODES.join(' or ')}, got '${resize}'`);
  const size = opts.size === undefined ? undefined : parseImageSize(opts.size);
  // A typo in a file name is reported as such, not as whatever the server (or its absence) says first.
  for (const image of opts.images) await checkImageFile(resolve(opts.cwd, image));

  const client = createInferenceClient(parseProtocol(opts.protocol), { url: opts.url, timeoutMs: opts.timeoutMs });
  try {
    return await classifyWith(client, opts, top, resize, size);
  } finally {
    client.close();
  }
}

interface ModelView {
  readonly metadata: ModelMetadata;
  readonly config: ModelConfig | undefined;
}

async function viewModel(client: InferenceClient, model: string, version?: string): Promise<ModelView> {
  const metadata = await client.getModelMetadata(model, version);
  const config = await modelConfigOrUndefined(client, model, version);
  return { metadata, config };
}

/** The image input and the output to classify, or the OfsError saying why this model cannot. */
function plan(model: string, view: ModelView, output: string | undefined, size: ImageSize | undefined): { shape: ImageInputShape; output: string } {
  const shape = inferImageShape(view.config?.input?.length ? view.config : view.metadata, model, size);
  if (shape.datatype !== 'FP32') {
    throw ofsError('OFS_NOT_IMAGE_MODEL', model, `input '${shape.inputName}' is ${shape.datatype}; classify sends FP32`);
  }
  return { shape, output: pickOutput(model, outputsOf(view.metadata, view.config), output) };
}

async function classifyWith(
  client: InferenceClient,
  opts: ClassifyOptions,
  top: number,
  resize: ResizeMode,
  size: ImageSize | undefined,
): Promise<ClassifyResult> {
  const notes: string[] = [];
  let model = opts.model;
  let view: ModelView | undefined;
  if (model === undefined) {
    const choice = await pickModel(client, opts, size);
    model = choice.model;
    view = choice.view;
    if (choice.note) notes.push(choice.note);
  }
  view ??= await viewModel(client, model, opts.version);
  if (opts.sendImage) return sendImages(client, opts, top, model, view, notes);
  const { shape, output } = plan(model, view, opts.output, size);
  if (shape.sizeFrom === 'default') {
    notes.push(
      `input '${shape.inputName}' has a variable height or width: resizing to ${shape.height}x${shape.width}, the default; pass --size HxW for another`,
    );
  } else if (shape.sizeFrom === 'option') {
    notes.push(`input '${shape.inputName}' has a variable height or width: resizing to ${shape.height}x${shape.width} (--size)`);
  }
  const maxBatch = maxBatchSizeOf(view.metadata, view.config);
  const { version, images } = await classifyInChunks(client, opts, model, output, top, maxBatch, (paths) =>
    pixelsInput(shape, paths, maxBatch, { normalize: opts.normalize, resize, maxImagePixels: opts.maxImagePixels }),
  );
  return {
    url: client.url,
    model,
    version,
    output,
    size: `${shape.height}x${shape.width}`,
    size_from: shape.sizeFrom,
    resize,
    notes,
    images,
  };
}

/** Sends the images in requests of up to max_batch_size (one without batching) and reads the top classes. */
async function classifyInChunks(
  client: InferenceClient,
  opts: ClassifyOptions,
  model: string,
  output: string,
  top: number,
  maxBatch: number,
  inputOf: (paths: readonly string[]) => Promise<InferInput>,
): Promise<{ version: string | undefined; images: ImageClassification[] }> {
  const chunkSize = maxBatch > 0 ? maxBatch : 1;
  const images: ImageClassification[] = [];
  let version: string | undefined;
  for (let start = 0; start < opts.images.length; start += chunkSize) {
    const chunk = opts.images.slice(start, start + chunkSize);
    const input = await inputOf(chunk.map((image) => resolve(opts.cwd, image)));
    const result = await client.infer(model, [input], { version: opts.version, outputs: [{ name: output, classCount: top }] });
    version ??= result.modelVersion;
    const perImage = splitRows(result.asStrings(output), chunk.length, client.url);
    chunk.forEach((image, i) => images.push({ image, predictions: perImage[i].map((s, r) => parseClassification(s, r + 1, client.url)) }));
    opts.onProgress?.(images.length, opts.images.length, model);
  }
  return { version, images };
}

/** --send-image: each file's own bytes go to a model that decodes images on the server (BYTES input). */
async function sendImages(
  client: InferenceClient,
  opts: ClassifyOptions,
  top: number,
  model: string,
  view: ModelView,
  notes: string[],
): Promise<ClassifyResult> {
  const encoded = encodedImageInput(view.metadata, model);
  const output = pickOutput(model, outputsOf(view.metadata, view.config), opts.output);
  const maxBatch = maxBatchSizeOf(view.metadata, view.config);
  const { version, images } = await classifyInChunks(client, opts, model, output, top, maxBatch, (paths) => encodedImagesInput(encoded, paths, maxBatch));
  notes.push('sent the image files as they are; the server decodes and resizes them');
  return { url: client.url, model, version, output, size: 'server', size_from: 'server', resize: 'server', notes, images };
}

/**
 * The model to use when -m is not given: the only READY one; among several, the one classify can use
 * (one image input, a class output), else the one marked as the repository's default (chooseModel).
 */
async function pickModel(
  client: InferenceClient,
  opts: ClassifyOptions,
  size: ImageSize | undefined,
): Promise<{ model: string; view?: ModelView; note?: string }> {
  const index = await client.getModelRepositoryIndex();
  const ready = [...new Set(index.filter((m) => m.state === 'READY').map((m) => m.name))];
  if (ready.length === 1) return { model: ready[0] };
  if (ready.length === 0) {
    const names = [...new Set(index.map((m) => `${m.name} (${m.state ?? 'unknown state'})`))];
    throw ofsError('OFS_MODEL_CHOICE', client.url, names.length === 0 ? 'it lists no models' : `none of its models is READY: ${names.join(', ')}`);
  }
  const views = new Map<string, ModelView>();
  const candidates: ModelCandidate[] = [];
  for (const name of ready) {
    let unusable: string | undefined;
    let view: ModelView | undefined;
    try {
      view = await viewModel(client, name, opts.version);
      views.set(name, view);
      plan(name, view, opts.output, size);
    } catch (e) {
      // One model the server cannot describe (or lacks --model-version) does not stop the others.
      if (!isOfsError(e) || e.code === 'OFS_SERVER_UNREACHABLE') throw e;
      unusable = e.message;
    }
    candidates.push({ name, unusable, isDefault: isClassifyDefault(view?.config) });
  }
  const choice = chooseModel(client.url, candidates);
  return { model: choice.model, view: views.get(choice.model), note: choice.note };
}

interface PixelOptions {
  readonly normalize?: Normalization;
  readonly resize: ResizeMode;
  readonly maxImagePixels?: number;
}

async function pixelsInput(shape: ImageInputShape, paths: readonly string[], maxBatch: number, o: PixelOptions) {
  const tensors = await Promise.all(
    paths.map((p) =>
      loadImageTensor(p, { width: shape.width, height: shape.height, layout: shape.layout, scale: o.normalize ?? 'unit', resize: o.resize, maxInputPixels: o.maxImagePixels }),
    ),
  );
  return inferInput(shape.inputName, 'FP32', requestShape(shape, maxBatch, paths.length), concat(tensors));
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
