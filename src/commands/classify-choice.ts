import { ofsError } from '../errors.js';
import type { ModelConfig } from '../core/config/model-config.js';
import { dtypeFromConfig } from '../core/tensor/dtype.js';
import type { V2ModelMetadata } from '../protocol/v2-types.js';

/**
 * Which output, and which model, `classify` uses when the user does not say. Pure decisions over what
 * the server reports (metadata, config), so every rule is tested without a server.
 */

/** The config parameter that marks a repository's default model for classify (`init --example` sets it). */
import { CLASSIFY_DEFAULT_PARAMETER } from '../core/config/constants.js';

export { CLASSIFY_DEFAULT_PARAMETER };

export interface OutputInfo {
  readonly name: string;
  readonly datatype: string;
  /** Dims without the batch dim. */
  readonly dims: readonly number[];
  /** Has a label_filename in the config. */
  readonly labelled: boolean;
}

const SCORE_TYPES = new Set(['FP16', 'BF16', 'FP32', 'FP64', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);

/** The outputs as the config declares them (dims without batch), else as metadata shows them. */
export function outputsOf(metadata: V2ModelMetadata, config: ModelConfig | undefined): OutputInfo[] {
  if (config?.output?.length) {
    return config.output.map((o) => ({
      name: o.name ?? '?',
      datatype: dtypeFromConfig(o.data_type ?? '')?.wire ?? String(o.data_type),
      dims: [...(o.dims ?? [])],
      labelled: Boolean(o.label_filename),
    }));
  }
  const batched = typeof config?.max_batch_size === 'number' ? config.max_batch_size > 0 : metadata.inputs[0]?.shape[0] === -1;
  return metadata.outputs.map((o) => ({
    name: o.name,
    datatype: o.datatype,
    dims: batched ? o.shape.slice(1) : [...o.shape],
    labelled: false,
  }));
}

/** A vector of class scores: numeric, with exactly one dim that is not 1, and that dim holds > 1 classes. */
export function looksLikeClassScores(o: OutputInfo): boolean {
  if (!SCORE_TYPES.has(o.datatype)) return false;
  const wide = o.dims.filter((d) => d !== 1);
  return wide.length === 1 && wide[0] > 1;
}

function describe(outputs: readonly OutputInfo[]): string {
  if (outputs.length === 0) return 'none';
  return outputs.map((o) => `${o.name} ${o.datatype} [${o.dims.join(',')}]${o.labelled ? ' (labelled)' : ''}`).join(', ');
}

/**
 * The output to classify: `asked` (--output) when given; else the one output with a label_filename;
 * else the one output shaped like class scores; else OFS_OUTPUT_CHOICE listing the outputs.
 */
export function pickOutput(model: string, outputs: readonly OutputInfo[], asked?: string): string {
  const fail = (what: string) => ofsError('OFS_OUTPUT_CHOICE', model, what, describe(outputs));
  if (asked !== undefined) {
    if (!outputs.some((o) => o.name === asked)) throw fail(`it has no output '${asked}'`);
    return asked;
  }
  if (outputs.length === 0) throw fail('it declares no outputs');
  const labelled = outputs.filter((o) => o.labelled);
  if (labelled.length === 1) return labelled[0].name;
  if (labelled.length > 1) throw fail(`${labelled.length} outputs have labels`);
  const scores = outputs.filter(looksLikeClassScores);
  if (scores.length === 1) return scores[0].name;
  throw fail(scores.length === 0 ? 'no output is shaped like class scores' : `${scores.length} outputs are shaped like class scores and none has labels`);
}

export function isClassifyDefault(config: ModelConfig | undefined): boolean {
  return config?.parameters?.[CLASSIFY_DEFAULT_PARAMETER]?.string_value?.trim().toLowerCase() === 'true';
}

/** What classify learned about one READY model while choosing. */
export interface ModelCandidate {
  readonly name: string;
  /** Why classify cannot use it (no image input, no class output, …); undefined when it can. */
  readonly unusable?: string;
  /** Marked with CLASSIFY_DEFAULT_PARAMETER in its config. */
  readonly isDefault: boolean;
}

export interface ModelChoice {
  readonly model: string;
  /** Why this model, when other models were ready too; for the user to see. */
  readonly note?: string;
}

/**
 * The model to classify with among several READY ones: the only one classify can use; else the one
 * the repository marks as its default; else OFS_MODEL_CHOICE listing the candidates, asking for -m.
 */
export function chooseModel(url: string, candidates: readonly ModelCandidate[]): ModelChoice {
  const usable = candidates.filter((c) => c.unusable === undefined);
  const names = (list: readonly ModelCandidate[]) => list.map((c) => c.name).join(', ');
  if (usable.length === 0) {
    const why = candidates.map((c) => `${c.name}: ${c.unusable}`).join('; ');
    throw ofsError('OFS_MODEL_CHOICE', url, `no READY model takes one image and returns class scores (${why})`);
  }
  if (usable.length === 1) {
    const others = candidates.filter((c) => c !== usable[0]);
    return {
      model: usable[0].name,
      note:
        others.length === 0
          ? undefined
          : `using model '${usable[0].name}', the only READY model that classifies images (not ${names(others)}); pass -m NAME to choose`,
    };
  }
  const defaults = usable.filter((c) => c.isDefault);
  if (defaults.length === 1) {
    return {
      model: defaults[0].name,
      note: `using model '${defaults[0].name}', the repository's default for classify (of ${names(usable)}); pass -m NAME to choose another`,
    };
  }
  const among = defaults.length > 1 ? defaults : usable;
  const marked = defaults.length > 1 ? ` and ${defaults.length} are marked ${CLASSIFY_DEFAULT_PARAMETER}` : '';
  throw ofsError('OFS_MODEL_CHOICE', url, `${usable.length} models can classify images${marked}: ${names(among)}`);
}
