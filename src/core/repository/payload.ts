import type { ModelConfig } from '../config/model-config.js';
import {
  BACKEND_IMAGE,
  BACKEND_ONEFLOW,
  BACKEND_ONNXRUNTIME,
  ONEFLOW_MODEL_DIRNAME,
  ONNX_MODEL_FILENAME,
  PLATFORM_ENSEMBLE,
  PLATFORM_ONNX,
} from '../config/constants.js';

/** The two payload formats ofserve reads: a folder written by `flow.save(graph, dir)`, or an ONNX file. */
export type PayloadKind = 'oneflow' | 'onnx';

/** The model payload of one version, as found on disk. */
export interface ModelPayload {
  readonly kind: PayloadKind;
  /** Absolute path of the `model` folder or the ONNX file. */
  readonly path: string;
  /** The same path as shown to the user (relative to the model store). */
  readonly file: string;
}

export type EntryType = 'file' | 'dir';

/**
 * What the config says the payload is: from backend, else platform; `unknown` for a backend ofserve
 * does not run (the backend rule reports it); `none` for an ensemble or the built-in image backend,
 * whose version folders stay empty; undefined when the config names neither (then the files decide,
 * like Triton's auto-complete does).
 */
export function payloadKindOfConfig(config: ModelConfig | undefined): PayloadKind | 'unknown' | 'none' | undefined {
  const backend = config?.backend ?? '';
  const platform = config?.platform ?? '';
  if (platform === PLATFORM_ENSEMBLE || backend === BACKEND_IMAGE) return 'none';
  if (backend === BACKEND_ONEFLOW) return 'oneflow';
  if (backend === BACKEND_ONNXRUNTIME) return 'onnx';
  if (backend !== '') return 'unknown';
  if (platform === PLATFORM_ONNX) return 'onnx';
  if (platform !== '') return 'unknown';
  return undefined;
}

export type PayloadChoice =
  | { readonly found: true; readonly kind: PayloadKind; /** relative to the version folder */ readonly relPath: string }
  | { readonly found: false; readonly message: string; readonly fix: string };

/**
 * Picks the payload of a version folder from its listing (name → file or folder). Returns undefined for
 * an unknown backend (there is nothing to look for, and the backend rule says why) and for models
 * without a payload (ensembles, the image backend).
 */
export function choosePayload(
  config: ModelConfig | undefined,
  entries: ReadonlyMap<string, EntryType>,
  versionLabel: string,
): PayloadChoice | undefined {
  const configured = payloadKindOfConfig(config);
  if (configured === 'unknown' || configured === 'none') return undefined;
  const explicitName = config?.default_model_filename || undefined;

  let kind: PayloadKind | undefined = configured;
  if (kind === undefined) {
    if (explicitName) kind = entries.get(explicitName) === 'dir' ? 'oneflow' : 'onnx';
    else if (entries.get(ONEFLOW_MODEL_DIRNAME) === 'dir') kind = 'oneflow';
    else if (entries.has(ONNX_MODEL_FILENAME)) kind = 'onnx';
    else {
      return {
        found: false,
        message: `cannot find a model in ${versionLabel}: expected a OneFlow '${ONEFLOW_MODEL_DIRNAME}' folder or '${ONNX_MODEL_FILENAME}'`,
        fix: `put the folder flow.save(graph, dir) wrote at ${versionLabel}/${ONEFLOW_MODEL_DIRNAME}, or an ONNX file at ${versionLabel}/${ONNX_MODEL_FILENAME}`,
      };
    }
  }

  const name = explicitName ?? (kind === 'oneflow' ? ONEFLOW_MODEL_DIRNAME : ONNX_MODEL_FILENAME);
  const type = entries.get(name);
  if (kind === 'oneflow') {
    if (type === 'dir') return { found: true, kind, relPath: name };
    if (type === 'file') {
      return {
        found: false,
        message: `${versionLabel}/${name} is a file, but the oneflow backend loads the model folder flow.save(graph, dir) wrote`,
        fix: `save the model with flow.save(graph, "${versionLabel}/${name}") so it is a folder holding model.mlir`,
      };
    }
    return {
      found: false,
      message: `cannot find the model folder ${versionLabel}/${name}`,
      fix: entries.has(ONNX_MODEL_FILENAME)
        ? `${versionLabel} holds ${ONNX_MODEL_FILENAME}: set backend: "${BACKEND_ONNXRUNTIME}" to serve it`
        : `save the model with flow.save(graph, "${versionLabel}/${name}") (a folder holding model.mlir and one folder per variable)`,
    };
  }
  // Triton also accepts model.onnx as a folder holding model.onnx plus external data files.
  if (type === 'dir') return { found: true, kind, relPath: `${name}/${ONNX_MODEL_FILENAME}` };
  if (type === 'file') return { found: true, kind, relPath: name };
  return {
    found: false,
    message: `cannot find the model file ${versionLabel}/${name}`,
    fix:
      entries.get(ONEFLOW_MODEL_DIRNAME) === 'dir'
        ? `${versionLabel} holds a OneFlow ${ONEFLOW_MODEL_DIRNAME} folder: set backend: "${BACKEND_ONEFLOW}" to serve it`
        : `put the ONNX model at ${versionLabel}/${name}${explicitName ? '' : ', or set default_model_filename'}`,
  };
}
