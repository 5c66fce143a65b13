import { BACKEND_IMAGE, DEFAULT_LABELS_FILENAME, PLATFORM_ENSEMBLE } from './constants.js';
import type { ModelConfig } from './model-config.js';

/**
 * The configs of an image pipeline in front of a classifier: an `image_preprocess` step that turns
 * encoded images into the classifier's input, and the ensemble that chains the two, so clients send
 * JPEG/PNG/WebP bytes and get the classifier's output (with its labels). The step reproduces the
 * reference client's preprocessing: LANCZOS squash to the input size, RGB, NCHW, ÷255.
 */

export interface PipelineTarget {
  /** The classifier's model name, config and the size of its image input. */
  readonly name: string;
  readonly config: ModelConfig;
  readonly width: number;
  readonly height: number;
  readonly layout: 'NCHW' | 'NHWC';
}

export const PIPELINE_IMAGE_INPUT = 'IMAGE';
const PIXELS = 'PIXELS';

export function imageStepConfig(name: string, target: PipelineTarget): ModelConfig {
  const dims = target.layout === 'NCHW' ? [3, target.height, target.width] : [target.height, target.width, 3];
  return {
    name,
    backend: BACKEND_IMAGE,
    max_batch_size: target.config.max_batch_size ?? 0,
    input: [{ name: PIPELINE_IMAGE_INPUT, data_type: 'TYPE_STRING', dims: [1] }],
    output: [{ name: PIXELS, data_type: 'TYPE_FP32', dims }],
    instance_group: [{ count: 1, kind: 'KIND_CPU' }],
    parameters: {
      resize: { string_value: 'squash' },
      layout: { string_value: target.layout },
      scale: { string_value: '1/255' },
      color_order: { string_value: 'RGB' },
    },
  };
}

export function pipelineConfig(name: string, stepName: string, target: PipelineTarget): ModelConfig {
  const input = target.config.input?.[0];
  const output = target.config.output?.[0];
  return {
    name,
    platform: PLATFORM_ENSEMBLE,
    // 1, not the classifier's 8: the OneFlow-Serving example's own config (max_batch_size 1) can then
    // replace the scaffolded one without the ensemble asking for more than it allows.
    max_batch_size: Math.min(1, target.config.max_batch_size ?? 0),
    input: [{ name: PIPELINE_IMAGE_INPUT, data_type: 'TYPE_STRING', dims: [1] }],
    output: [{ name: output?.name, data_type: output?.data_type, dims: output?.dims, ...(output?.label_filename ? { label_filename: DEFAULT_LABELS_FILENAME } : {}) }],
    ensemble_scheduling: {
      step: [
        { model_name: stepName, model_version: -1, input_map: { [PIPELINE_IMAGE_INPUT]: PIPELINE_IMAGE_INPUT }, output_map: { [PIXELS]: 'pixels' } },
        { model_name: target.name, model_version: -1, input_map: { [input?.name ?? '']: 'pixels' }, output_map: { [output?.name ?? '']: output?.name ?? '' } },
      ],
    },
  };
}
