import { backendOf } from './backend-of.js';
import { BACKEND_ONEFLOW, BACKEND_ONNXRUNTIME } from './constants.js';
import type { ModelConfig } from './model-config.js';

/**
 * The thread settings a config asks of onnxruntime: the intra-op thread count, under the key Triton's
 * onnxruntime backend reads (`parameters { key: "intra_op_thread_count" value: { string_value: "2" } }`),
 * and whether those threads spin, under onnxruntime's own session key. Pure: placement uses them, the
 * config rules check them.
 */

export const INTRA_OP_THREAD_COUNT = 'intra_op_thread_count';

/**
 * onnxruntime's session config key. ofserve turns spinning off by default (other instances, other
 * models and the event loop need the cores between operators); "1" turns it on for runs only.
 */
export const INTRA_OP_ALLOW_SPINNING = 'session.intra_op.allow_spinning';

/** More threads than this per instance is a typo, not a machine. */
export const MAX_INTRA_OP_THREADS = 1024;

export type IntraOpThreads = { readonly ok: true; readonly threads?: number } | { readonly ok: false; readonly text: string };

/**
 * `threads` is undefined when the key is absent or "0" (Triton's "use the default"), and for backends
 * other than onnxruntime and oneflow (which runs on onnxruntime), where `validate` warns it is ignored.
 */
export function intraOpThreads(config: ModelConfig): IntraOpThreads {
  if (!readsThreadParameters(config)) return { ok: true };
  const text = config.parameters?.[INTRA_OP_THREAD_COUNT]?.string_value;
  if (text === undefined) return { ok: true };
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) > MAX_INTRA_OP_THREADS) return { ok: false, text };
  const n = Number(trimmed);
  return n === 0 ? { ok: true } : { ok: true, threads: n };
}

export type IntraOpSpinning = { readonly ok: true; readonly spinning: boolean } | { readonly ok: false; readonly text: string };

/** "1"/"true" or "0"/"false" (any case); absent, and for backends that do not read it, false. */
export function intraOpSpinning(config: ModelConfig): IntraOpSpinning {
  const text = readsThreadParameters(config) ? config.parameters?.[INTRA_OP_ALLOW_SPINNING]?.string_value : undefined;
  if (text === undefined) return { ok: true, spinning: false };
  const value = text.trim().toLowerCase();
  if (value === '1' || value === 'true') return { ok: true, spinning: true };
  if (value === '0' || value === 'false') return { ok: true, spinning: false };
  return { ok: false, text };
}

/** The backends that run on onnxruntime (oneflow does, after conversion). */
function readsThreadParameters(config: ModelConfig): boolean {
  const backend = backendOf(config);
  return backend === BACKEND_ONNXRUNTIME || backend === BACKEND_ONEFLOW;
}
