import { BACKEND_ONNXRUNTIME, PLATFORM_ONNX } from './constants.js';
import type { ModelConfig } from './model-config.js';

/** The backend a config runs on: its `backend`, or onnxruntime for an ONNX (or unnamed) platform; undefined for an ensemble. */
export function backendOf(config: ModelConfig): string | undefined {
  if (config.backend) return config.backend;
  if (!config.platform || config.platform === PLATFORM_ONNX) return BACKEND_ONNXRUNTIME;
  return undefined;
}
