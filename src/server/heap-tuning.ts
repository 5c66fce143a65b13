import { setFlagsFromString } from 'node:v8';

/**
 * The server's V8 heap is small (about 17 MB live with ResNet-50 loaded: the weights live in the
 * onnxruntime workers) while every request moves a 600 KB body through it. With V8's default growth
 * factor for a heap that small, a full mark-compact started every 20 or so requests and cost the main
 * thread about 1.3 ms of CPU per request; letting the old generation grow to 4x its live size before
 * the next marking removes nearly all of them (bench/README.md, "serving overhead"). The factor is read
 * at every collection, so setting it once the process runs takes effect.
 */
export const SERVING_HEAP_GROWING_PERCENT = 300;

const FLAG = '--heap-growing-percent';

/** Sets the growth factor unless the user gave node one (NODE_OPTIONS cannot carry it); returns whether it did. */
export function tuneHeapForServing(setFlags: (flags: string) => void = setFlagsFromString, execArgv: readonly string[] = process.execArgv): boolean {
  const chosen = execArgv.some((a) => a === FLAG || a.startsWith(`${FLAG}=`) || a.startsWith('--heap_growing_percent'));
  if (chosen) return false;
  setFlags(`${FLAG}=${SERVING_HEAP_GROWING_PERCENT}`);
  return true;
}
