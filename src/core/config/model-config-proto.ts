import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The .proto schemas live in the package's top-level proto/ folder (shipped with it, see package.json
 * "files"); this module sits at the same depth in src/ and dist/, so one relative path serves both.
 */
export const PROTO_DIR = fileURLToPath(new URL('../../../proto/', import.meta.url));

export function readProto(file: string): string {
  return readFileSync(`${PROTO_DIR}${file}`, 'utf8');
}

/** proto/model_config.proto: ofserve's field-number-compatible copy of Triton's ModelConfig schema. */
export const MODEL_CONFIG_PROTO = readProto('model_config.proto');
