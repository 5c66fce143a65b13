/** Names Triton and OneFlow-Serving fix, declared once (after Triton's src/constants.h). */

export const CONFIG_FILENAME = 'config.pbtxt';
export const ONEFLOW_MODEL_DIRNAME = 'model';
export const ONNX_MODEL_FILENAME = 'model.onnx';
export const ONEFLOW_MLIR_FILENAME = 'model.mlir';
export const DEFAULT_LABELS_FILENAME = 'labels.txt';

export const BACKEND_ONEFLOW = 'oneflow';
export const BACKEND_ONNXRUNTIME = 'onnxruntime';
export const PLATFORM_ONNX = 'onnxruntime_onnx';
/** Triton's pipeline of other models (ensemble_scheduling); it has no payload of its own. */
export const PLATFORM_ENSEMBLE = 'ensemble';
/** ofserve's built-in backend that decodes encoded images (BYTES) into tensors; no payload either. */
export const BACKEND_IMAGE = 'image_preprocess';

/** The oneflow backend's rule: IO tensors are named INPUT_<i> / OUTPUT_<i>. */
export const ONEFLOW_INPUT_PATTERN = /^INPUT_(\d+)$/;
export const ONEFLOW_OUTPUT_PATTERN = /^OUTPUT_(\d+)$/;

/** Version sub-folders Triton skips. */
export const SKIPPED_VERSION_DIRS: ReadonlySet<string> = new Set(['warmup', 'initial_state', 'configs']);

/**
 * A model parameter read by `ofserve classify` (not by any backend): "true" marks the model classify
 * uses when -m is not given and several models could classify.
 */
export const CLASSIFY_DEFAULT_PARAMETER = 'ofserve_classify_default';
