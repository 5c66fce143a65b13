import { cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ofsError } from '../errors.js';
import { writeFailed } from './write-failed.js';
import {
  BACKEND_ONEFLOW,
  CONFIG_FILENAME,
  DEFAULT_LABELS_FILENAME,
  ONEFLOW_MLIR_FILENAME,
  ONEFLOW_MODEL_DIRNAME,
  ONNX_MODEL_FILENAME,
} from '../core/config/constants.js';
import type { ModelConfig } from '../core/config/model-config.js';
import { parsePbtxt } from '../core/config/pbtxt-parse.js';
import { printPbtxt } from '../core/config/pbtxt-print.js';
import { scaffoldConfig } from '../core/config/scaffold.js';
import { imageStepConfig, pipelineConfig } from '../core/config/scaffold-pipeline.js';
import { buildColourClassifier } from '../core/graph/builders/colour-classifier.js';
import { buildResNet50 } from '../core/graph/builders/resnet50.js';
import type { Graph } from '../core/graph/ir.js';
import { loadOneflowModel, writeOneflowModel } from '../core/graph/oneflow/index.js';
import { readOnnxModel } from '../core/graph/onnx-reader.js';
import { writeOnnxModel } from '../core/graph/onnx-writer.js';
import { readLabels } from '../core/repository/labels.js';
import { exists } from './exists.js';
import { CLASSIFY_DEFAULT_PARAMETER } from './classify-choice.js';

export interface InitOptions {
  readonly cwd: string;
  /** A .onnx file, or a OneFlow model folder (the one flow.save(graph, dir) wrote, holding model.mlir). */
  readonly model?: string;
  /** Model (and folder) name; derived from the model path when left out. */
  readonly name?: string;
  /** Default `model_repository`. */
  readonly repository?: string;
  /** Version folder; default 1. */
  readonly version?: number;
  readonly force?: boolean;
  /** Write the demo repository (ResNet-50 in OneFlow format and the colour classifier in ONNX). */
  readonly example?: boolean;
  /** A labels file to copy as labels.txt (one label per line). */
  readonly labels?: string;
  /** instance_group KIND_GPU instead of KIND_CPU. */
  readonly gpu?: boolean;
  /** max_batch_size for a model with a dynamic batch dimension (default 8). */
  readonly maxBatchSize?: number;
}

export interface InitResult {
  /** Absolute path of the model repository. */
  readonly repository: string;
  readonly models: string[];
  /** What was written, relative to cwd; a folder written as a whole ends in '/'. */
  readonly files: string[];
  /** Files of an existing model left untouched (a new version was added beside them), relative to cwd. */
  readonly kept: string[];
  readonly warnings: string[];
}

/** templates/ at the package root: two levels above src/commands/ and dist/commands/ alike. */
const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));
const IMAGENET_CLASSES = 1000;

/**
 * One thing to write. Contents are produced only when written, so a refusal to overwrite costs nothing
 * (the example's ResNet-50 takes seconds to build).
 */
interface Entry {
  readonly path: string;
  /** Written as a whole folder (replaced as a whole under --force). */
  readonly folder: boolean;
  readonly write: (target: string) => Promise<void>;
}

const fileEntry = (p: string, data: () => string | Uint8Array | Promise<string | Uint8Array>): Entry => ({
  path: p,
  folder: false,
  write: async (target) => writeFile(target, await data()),
});

interface ModelPlan {
  readonly name: string;
  readonly entries: Entry[];
  readonly warnings: string[];
  /** Files of an existing model left as they are (a new version added beside them). */
  readonly kept: string[];
}


/**
 * config.pbtxt text. printPbtxt leaves proto3 zeros out, but `max_batch_size: 0` is the one a reader
 * needs to see: it says the dims are full shapes with no batch dimension (Triton's own hint for models
 * that do not batch), so init writes it after the model's identity.
 */
function configText(config: ModelConfig): string {
  const text = printPbtxt(config);
  if ((config.max_batch_size ?? 0) !== 0) return text;
  const lines = text.split('\n');
  const at = lines.findIndex((l) => !/^(name|platform|backend):/.test(l));
  lines.splice(at < 0 ? lines.length : at, 0, 'max_batch_size: 0');
  return lines.join('\n');
}

async function imagenetLabelsText(): Promise<string> {
  const text = await readFile(path.join(TEMPLATES_DIR, 'imagenet_labels.txt'), 'utf8');
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** labels.txt for `classes` classes: ImageNet's names for 1000, generic names otherwise. */
async function defaultLabels(classes: number): Promise<string> {
  if (classes === IMAGENET_CLASSES) return imagenetLabelsText();
  return Array.from({ length: classes }, (_, i) => `class_${i}\n`).join('');
}

/** The class count of a classifier: the last dim of the first output that has a fixed one. */
function classCount(graph: Graph): number | undefined {
  for (const o of graph.outputs) {
    const last = o.shape.at(-1);
    if (last !== undefined && last > 0) return last;
  }
  return undefined;
}

function checkName(name: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) {
    throw ofsError('OFS_BAD_ARGUMENT', `model name '${name}' must be letters, digits, '_', '.' or '-' (it becomes a folder name)`);
  }
  return name;
}

/** resnet50.onnx → resnet50; …/resnet/1/model.onnx or …/resnet/1/model → resnet. */
function nameFromPath(modelPath: string): string {
  let p = path.resolve(modelPath);
  let base = path.basename(p).replace(/\.onnx$/i, '');
  while ((base === ONEFLOW_MODEL_DIRNAME || /^[0-9]+$/.test(base)) && path.dirname(p) !== p) {
    p = path.dirname(p);
    base = path.basename(p);
  }
  const cleaned = base.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[.-]+/, '');
  return cleaned || 'model';
}

/** Reads the user's model: an ONNX file, or a OneFlow folder (also accepted: its parent version folder). */
interface UserModel {
  readonly kind: 'onnx' | 'oneflow';
  readonly path: string;
  readonly graph: Graph;
  readonly bytes?: Uint8Array;
  readonly warnings: string[];
}

async function readUserModel(modelPath: string): Promise<UserModel> {
  const info = await stat(modelPath).catch(() => undefined);
  if (!info) throw ofsError('OFS_FILE_NOT_FOUND', modelPath, 'model');
  if (info.isDirectory()) {
    let dir = modelPath;
    if (!(await exists(path.join(dir, ONEFLOW_MLIR_FILENAME))) && (await exists(path.join(dir, ONEFLOW_MODEL_DIRNAME, ONEFLOW_MLIR_FILENAME)))) {
      dir = path.join(dir, ONEFLOW_MODEL_DIRNAME);
    }
    if (!(await exists(path.join(dir, ONEFLOW_MLIR_FILENAME)))) {
      throw ofsError('OFS_MODEL_FORMAT', modelPath, `the folder has no ${ONEFLOW_MLIR_FILENAME}, so it is not a model saved with flow.save(graph, dir)`);
    }
    const { graph, warnings } = await loadOneflowModel(dir);
    return { kind: 'oneflow', path: dir, graph, warnings: [...warnings] };
  }
  const bytes = await readFile(modelPath);
  return { kind: 'onnx', path: modelPath, graph: readOnnxModel(bytes, modelPath), bytes, warnings: [] };
}

/**
 * The version folder's payload: model.onnx, or a copy of the OneFlow folder. None when the model
 * already sits in its version folder (replacing that folder under --force would delete the very model
 * being copied).
 */
function payloadEntries(model: UserModel, vdir: string): Entry[] {
  const { bytes } = model;
  if (bytes) return [fileEntry(path.join(vdir, ONNX_MODEL_FILENAME), () => bytes)];
  if (path.resolve(model.path) !== path.join(vdir, ONEFLOW_MODEL_DIRNAME)) {
    return [{ path: path.join(vdir, ONEFLOW_MODEL_DIRNAME), folder: true, write: (t) => cp(model.path, t, { recursive: true }) }];
  }
  return [];
}

async function planUserModel(opts: InitOptions, repository: string): Promise<ModelPlan> {
  if (!opts.model) throw ofsError('OFS_BAD_ARGUMENT', 'init needs a model (a .onnx file or a OneFlow model folder), or --example');
  const version = opts.version ?? 1;
  if (!Number.isSafeInteger(version) || version < 0) throw ofsError('OFS_BAD_ARGUMENT', `version must be a whole number ≥ 0, not ${version}`);
  const modelPath = path.resolve(opts.cwd, opts.model);
  const model = await readUserModel(modelPath);
  const name = checkName(opts.name ?? nameFromPath(modelPath));
  const dir = path.join(repository, name);
  const vdir = path.join(dir, String(version));
  const warnings = [...model.warnings];

  // A model that already has a config gets a new version beside the old ones; its config.pbtxt and
  // labels stay as the user made them (--force rewrites them from this model instead).
  if (!opts.force && (await exists(path.join(dir, CONFIG_FILENAME)))) {
    if (opts.labels !== undefined || opts.gpu) {
      throw ofsError(
        'OFS_BAD_ARGUMENT',
        `model '${name}' already has ${CONFIG_FILENAME}, which init leaves as it is when adding version ${version}; --labels and --gpu would not be used (pass --force to rewrite the config and labels from this model)`,
      );
    }
    const configFile = path.join(dir, CONFIG_FILENAME);
    const entries = payloadEntries(model, vdir);
    for (const e of entries) if (await exists(e.path)) throw ofsError('OFS_FILE_EXISTS', path.relative(opts.cwd, e.path) || e.path);
    // A config that does not parse is left for `validate` to explain; init only adds the payload.
    let existing: ModelConfig | undefined;
    try {
      existing = parsePbtxt(await readFile(configFile, 'utf8'), configFile);
    } catch {
      existing = undefined;
    }
    const oneflowConfig = existing?.backend === BACKEND_ONEFLOW;
    if (existing && oneflowConfig !== (model.kind === 'oneflow')) {
      throw ofsError(
        'OFS_BAD_ARGUMENT',
        `model '${name}' is configured for ${oneflowConfig ? 'OneFlow folders (backend "oneflow")' : 'ONNX files'}, but ${opts.model} is ${model.kind === 'oneflow' ? 'a OneFlow folder' : 'an ONNX file'}; add it under another --name, or pass --force to rewrite the config from it`,
      );
    }
    if (entries.length === 0) warnings.push(`the model already sits in ${path.relative(opts.cwd, vdir) || vdir}; nothing to write`);
    const kept = [CONFIG_FILENAME, DEFAULT_LABELS_FILENAME].map((f) => path.join(dir, f));
    const present: string[] = [];
    for (const k of kept) if (await exists(k)) present.push(k);
    return { name, entries, warnings, kept: present };
  }

  let labelsText: string | undefined;
  let labelCount: number | undefined;
  if (opts.labels) {
    const labelsPath = path.resolve(opts.cwd, opts.labels);
    labelsText = await readFile(labelsPath, 'utf8').catch(() => {
      throw ofsError('OFS_FILE_NOT_FOUND', labelsPath, 'labels file');
    });
    labelCount = readLabels(labelsText).length;
    const classes = classCount(model.graph);
    if (classes !== undefined && classes !== labelCount) {
      warnings.push(`${opts.labels} has ${labelCount} labels but the model has ${classes} classes; \`ofserve validate\` will report it`);
    }
  } else {
    labelCount = classCount(model.graph);
    if (labelCount !== undefined) labelsText = await defaultLabels(labelCount);
  }

  const config = scaffoldConfig(model.graph, {
    name,
    backend: model.kind === 'oneflow' ? 'oneflow' : 'onnxruntime',
    maxBatchSize: opts.maxBatchSize,
    labelsFile: labelsText === undefined ? undefined : DEFAULT_LABELS_FILENAME,
    labelCount,
    gpu: opts.gpu,
  });
  const entries = payloadEntries(model, vdir);
  entries.push(fileEntry(path.join(dir, CONFIG_FILENAME), () => configText(config)));
  const text = labelsText;
  if (text !== undefined) entries.push(fileEntry(path.join(dir, DEFAULT_LABELS_FILENAME), () => text));
  return { name, entries, warnings, kept: [] };
}

/**
 * The demo store: ResNet-50 with seeded weights as a OneFlow folder, the colour classifier as ONNX, and
 * resnet50_pipeline (an ensemble of the image_preprocess step resnet50_preprocess and ResNet-50) that
 * takes JPEG/PNG/WebP bytes.
 */
function planExample(opts: InitOptions, repository: string): ModelPlan[] {
  const resnetName = 'resnet50_oneflow';
  const resnetDir = path.join(repository, resnetName);
  let resnet: Graph | undefined;
  const resnetGraph = (): Graph => (resnet ??= buildResNet50({ seed: 42, inputName: 'INPUT_0', outputName: 'OUTPUT_0' }));

  let resnetConfig: ModelConfig | undefined;
  const resnetConfigOf = (): ModelConfig =>
    (resnetConfig ??= {
      ...scaffoldConfig(resnetGraph(), {
        name: resnetName,
        backend: 'oneflow',
        maxBatchSize: opts.maxBatchSize,
        labelsFile: DEFAULT_LABELS_FILENAME,
        labelCount: IMAGENET_CLASSES,
        gpu: opts.gpu,
      }),
      // The example models all classify images; the seed's model is the one `classify` uses without -m.
      parameters: { [CLASSIFY_DEFAULT_PARAMETER]: { string_value: 'true' } },
    });
  // JPEG in, labels out: the image step and the ensemble chaining it to ResNet-50.
  const stepName = 'resnet50_preprocess';
  const pipelineName = 'resnet50_pipeline';
  const target = () => ({ name: resnetName, config: resnetConfigOf(), width: 224, height: 224, layout: 'NCHW' as const });
  const emptyVersion = (dir: string): Entry => ({ path: path.join(dir, '1'), folder: true, write: (t) => mkdir(t, { recursive: true }).then(() => undefined) });

  const colourName = 'color_classifier';
  const colourDir = path.join(repository, colourName);
  let colour: ReturnType<typeof buildColourClassifier> | undefined;
  const colourModel = (): ReturnType<typeof buildColourClassifier> => (colour ??= buildColourClassifier());

  return [
    {
      name: resnetName,
      warnings: [],
      kept: [],
      entries: [
        { path: path.join(resnetDir, '1', ONEFLOW_MODEL_DIRNAME), folder: true, write: (t) => writeOneflowModel(t, resnetGraph()) },
        fileEntry(path.join(resnetDir, CONFIG_FILENAME), () => configText(resnetConfigOf())),
        fileEntry(path.join(resnetDir, DEFAULT_LABELS_FILENAME), imagenetLabelsText),
      ],
    },
    {
      name: colourName,
      warnings: [],
      kept: [],
      entries: [
        fileEntry(path.join(colourDir, '1', ONNX_MODEL_FILENAME), () => writeOnnxModel(colourModel().graph)),
        fileEntry(path.join(colourDir, CONFIG_FILENAME), () =>
          configText(
            scaffoldConfig(colourModel().graph, {
              name: colourName,
              backend: 'onnxruntime',
              maxBatchSize: opts.maxBatchSize,
              labelsFile: DEFAULT_LABELS_FILENAME,
              labelCount: colourModel().labels.length,
              gpu: opts.gpu,
            }),
          ),
        ),
        fileEntry(path.join(colourDir, DEFAULT_LABELS_FILENAME), () => colourModel().labels.map((l) => `${l}\n`).join('')),
      ],
    },
    {
      name: stepName,
      warnings: [],
      kept: [],
      entries: [
        emptyVersion(path.join(repository, stepName)),
        fileEntry(path.join(repository, stepName, CONFIG_FILENAME), () => printPbtxt(imageStepConfig(stepName, target()))),
      ],
    },
    {
      name: pipelineName,
      warnings: [],
      kept: [],
      entries: [
        emptyVersion(path.join(repository, pipelineName)),
        fileEntry(path.join(repository, pipelineName, CONFIG_FILENAME), () => printPbtxt(pipelineConfig(pipelineName, stepName, target()))),
        fileEntry(path.join(repository, pipelineName, DEFAULT_LABELS_FILENAME), imagenetLabelsText),
      ],
    },
  ];
}

async function write(entry: Entry): Promise<void> {
  try {
    await mkdir(path.dirname(entry.path), { recursive: true });
    // A folder replaced under --force must not keep stale variables from the old model.
    if (entry.folder) await rm(entry.path, { recursive: true, force: true });
    await entry.write(entry.path);
  } catch (e) {
    throw writeFailed(entry.path, e);
  }
}

/**
 * `ofserve init`: scaffolds a model repository from a model file (model payload, config.pbtxt from the
 * model's own IO, labels.txt), or the demo repository with --example. Refuses to overwrite anything
 * unless `force`, checking every target before writing the first, so a refusal writes nothing.
 */
export async function init(opts: InitOptions): Promise<InitResult> {
  if (opts.example && opts.model) throw ofsError('OFS_BAD_ARGUMENT', 'pass either a model or --example, not both');
  // The example's names and labels are fixed; taking these flags silently would write something else.
  if (opts.example && (opts.name !== undefined || opts.labels !== undefined)) {
    throw ofsError('OFS_BAD_ARGUMENT', '--name and --labels apply to a model of your own, not to --example');
  }
  const repository = path.resolve(opts.cwd, opts.repository ?? 'model_repository');
  const plans = opts.example ? planExample(opts, repository) : [await planUserModel(opts, repository)];
  const entries = plans.flatMap((p) => p.entries);
  if (!opts.force) {
    for (const e of entries) if (await exists(e.path)) throw ofsError('OFS_FILE_EXISTS', path.relative(opts.cwd, e.path) || e.path);
  }
  for (const e of entries) await write(e);
  const rel = (p: string) => path.relative(opts.cwd, p).split(path.sep).join('/');
  return {
    repository,
    models: plans.map((p) => p.name),
    files: entries.map((e) => rel(e.path) + (e.folder ? '/' : '')),
    kept: plans.flatMap((p) => p.kept).map(rel),
    warnings: plans.flatMap((p) => p.warnings),
  };
}

export function formatInitReport(r: InitResult): string {
  return [
    `wrote ${r.models.length === 1 ? `model '${r.models[0]}'` : `models ${r.models.map((m) => `'${m}'`).join(', ')}`} to ${r.repository}`,
    ...r.files.map((f) => `  ${f}`),
    ...(r.kept.length > 0 ? [`kept as they are: ${r.kept.join(', ')}`] : []),
    ...r.warnings.map((w) => `  warning: ${w}`),
    `next: ofserve validate --model-store ${r.repository}`,
  ].join('\n');
}
