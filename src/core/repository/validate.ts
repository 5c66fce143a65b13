import { isOfsError, toOfsError } from '../../errors.js';
import type { ModelSource } from '../backend.js';
import type { Graph } from '../graph/ir.js';
import type { Problem } from '../problem.js';
import type { ModelConfig } from '../config/model-config.js';
import { checkConfig } from './config-rules.js';
import { isImagePreprocess, readImagePreprocess } from '../config/image-preprocess.js';
import { checkEnsemble, isEnsemble, type ComposingModel } from './ensemble-rules.js';
import { checkAgainstGraph, checkGraphWiring } from './graph-rules.js';
import { checkLabels, type LabelFileFacts } from './label-rules.js';
import { readModelIO, readModelSource } from './model-io.js';
import { scanRepository, type ScanOptions, type ScannedModel } from './scan.js';

export interface ValidateOptions extends ScanOptions {
  /** Whether a usable GPU is present; when false, KIND_GPU instance groups get a warning. */
  readonly gpuAvailable?: boolean;
  /** `--strict`, as serve takes it: what serve would only warn about (KIND_GPU on CPU, label counts) is an error. */
  readonly strict?: boolean;
  /**
   * The deep check: builds each served version the way serve does (a backend session from the same
   * source) and throws what the backend refuses. Run only for models with no error so far, since a
   * model serve would refuse anyway needs no session to say so. Core knows no backend: the command
   * passes one in.
   */
  readonly build?: (source: ModelSource, config: ModelConfig) => Promise<void>;
  /**
   * The other models of the store, for checking an ensemble's steps against them (undefined: not in
   * the store). Without it an ensemble's steps are not checked against the composing models.
   */
  readonly composing?: (name: string) => Promise<ComposingModel | undefined>;
}

export interface ModelReport {
  readonly name: string;
  readonly problems: Problem[];
}

export interface RepositoryReport {
  readonly models: ModelReport[];
  /** Problems of the store itself (e.g. it does not exist). */
  readonly problems: Problem[];
}

/**
 * Every problem of every model in the store at once: the scan's (files missing or unreadable), the
 * config rules, labels against outputs, and config against the real IO of each served version.
 */
export async function validateRepository(storeDir: string, opts: ValidateOptions = {}): Promise<RepositoryReport> {
  let scan;
  try {
    scan = await scanRepository(storeDir, opts);
  } catch (e) {
    if (!isOfsError(e) || e.code !== 'OFS_REPOSITORY_NOT_FOUND') throw e;
    return { models: [], problems: [{ severity: 'error', file: storeDir, message: e.message, fix: e.fix }] };
  }
  const models: ModelReport[] = [];
  const byName = new Map(scan.models.map((m) => [m.name, m]));
  const composing = async (name: string): Promise<ComposingModel | undefined> => {
    const m = byName.get(name);
    return m && { name, config: m.config, versions: m.selectedVersions };
  };
  for (const model of scan.models) models.push({ name: model.name, problems: await validateModel(model, { composing, ...opts }) });
  const problems: Problem[] =
    scan.models.length === 0
      ? [{ severity: 'warning', file: storeDir, message: `the model repository ${storeDir} holds no model folder`, fix: 'add one folder per model (`ofserve init` writes one)' }]
      : [];
  return { models, problems };
}

/** A chain of ensembles through their steps that leads back to `start`, or undefined. */
async function ensembleCycle(
  start: string,
  config: ModelConfig,
  composing: (name: string) => Promise<ComposingModel | undefined>,
): Promise<string[] | undefined> {
  const path = [start];
  const seen = new Set<string>();
  const visit = async (c: ModelConfig): Promise<string[] | undefined> => {
    for (const step of c.ensemble_scheduling?.step ?? []) {
      const name = step.model_name ?? '';
      if (name === start && path.length > 1) return [...path, name];
      if (!name || name === start || seen.has(name)) continue;
      seen.add(name);
      const m = await composing(name);
      if (!m?.config || !isEnsemble(m.config)) continue;
      path.push(name);
      const found = await visit(m.config);
      if (found) return found;
      path.pop();
    }
    return undefined;
  };
  return visit(config);
}

/** The problems of one scanned model (the scan's own first). */
export async function validateModel(model: ScannedModel, opts: ValidateOptions = {}): Promise<Problem[]> {
  return (await validateModelGraphs(model, opts)).problems;
}

/**
 * validateModel, also handing back the graph read for each served version, so a server that loads
 * the model right after validating it does not read (and, for OneFlow, import) the weights twice.
 */
export async function validateModelGraphs(
  model: ScannedModel,
  opts: ValidateOptions = {},
): Promise<{ problems: Problem[]; graphs: ReadonlyMap<number, Graph> }> {
  const graphs = new Map<number, Graph>();
  const problems: Problem[] = [...model.problems];
  const { config } = model;
  const ctx = { model: model.name, file: model.configFile };
  if (config) {
    problems.push(...checkConfig(config, ctx, opts));
    const facts = new Map<string, LabelFileFacts>();
    for (const l of model.labels) if (l.labels) facts.set(l.output, { file: l.file, count: l.labels.length });
    problems.push(...checkLabels(config, facts, ctx, opts));
    if (isImagePreprocess(config)) problems.push(...readImagePreprocess(config, ctx.file).problems);
    if (config.ensemble_scheduling || isEnsemble(config)) {
      const found = new Map<string, ComposingModel>();
      for (const step of config.ensemble_scheduling?.step ?? []) {
        const name = step.model_name;
        const m = name && opts.composing ? await opts.composing(name) : undefined;
        if (name && m) found.set(name, m);
      }
      if (opts.composing) {
        problems.push(...checkEnsemble(config, ctx, (name) => found.get(name)));
        const cycle = await ensembleCycle(model.name, config, opts.composing);
        if (cycle) {
          problems.push({
            severity: 'error',
            file: ctx.file,
            field: 'ensemble_scheduling.step',
            message: `ensembles use each other in a cycle: ${cycle.join(' → ')}; a request would never finish`,
            fix: 'make one of them stop using the other',
          });
        }
      }
    }
  }
  for (const v of model.versions) {
    if (!v.payload || !model.selectedVersions.includes(v.version)) continue;
    const io = await readModelIO(v.payload);
    problems.push(...io.problems);
    if (io.graph) graphs.set(v.version, io.graph);
    if (io.graph) problems.push(...checkGraphWiring(io.graph, v.payload.file));
    if (io.graph && config) problems.push(...checkAgainstGraph(config, io.graph, { ...ctx, modelFile: v.payload.file }));
  }
  if (opts.build && config && !problems.some((p) => p.severity === 'error')) {
    for (const v of model.versions) {
      const graph = graphs.get(v.version);
      if (!v.payload || !graph) continue;
      try {
        await opts.build(await readModelSource(model.name, String(v.version), v.payload, graph), config);
      } catch (e) {
        const err = toOfsError(e);
        problems.push({ severity: 'error', file: v.payload.file, message: err.message, fix: err.fix ?? 'check that the model opens in onnxruntime, or re-export it' });
      }
    }
  }
  return { problems, graphs };
}
