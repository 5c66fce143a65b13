/** The model configuration layer: config.pbtxt text ⇄ ModelConfig, defaults, Triton's JSON form. */
export * from './model-config.js';
export * from './constants.js';
export { MODEL_CONFIG_PROTO } from './model-config-proto.js';
export { ModelConfigType, modelConfigRoot } from './proto.js';
export { parsePbtxt } from './pbtxt-parse.js';
export { printPbtxt } from './pbtxt-print.js';
export { normalizeConfig, type NormalizeContext } from './normalize.js';
export { configToTritonJson } from './config-json.js';
export { configFromTritonJson } from './config-from-json.js';
