import { backendOf } from './backend-of.js';
import { BACKEND_ONEFLOW, BACKEND_ONNXRUNTIME } from './constants.js';
import type { ModelConfig } from './model-config.js';

/**
 * The intra-op thread count a config asks for, under the key Triton's onnxruntime backend reads
 * (`parameters { key: "intra_op_thread_count" value: { string_value: "2" } }`). Pure: placement uses
 * it, the config rules check it.
 */

export const INTRA_OP_THREAD_COUNT = 'intra_op_thread_count';

/** More threads than this per instance is a typo, not a machine. */
export const MAX_INTRA_OP_THREADS = 1024;

export type IntraOpThreads = { readonly ok: true; readonly threads?: number } | { readonly ok: false; readonly text: string };

/**
 * `threads` is undefined when the key is absent or "0" (Triton's "use the default"), and for backends
 * other than onnxruntime and oneflow (which runs on onnxruntime), where `validate` warns it is ignored.
 */
export function intraOpThreads(config: ModelConfig): IntraOpThreads {
  const backend = backendOf(config);
  if (backend !== BACKEND_ONNXRUNTIME && backend !== BACKEND_ONEFLOW) return { ok: true };
  const text = config.parameters?.[INTRA_OP_THREAD_COUNT]?.string_value;
  if (text === undefined) return { ok: true };
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) > MAX_INTRA_OP_THREADS) return { ok: false, text };
  const n = Number(trimmed);
  return n === 0 ? { ok: true } : { ok: true, threads: n };
}
