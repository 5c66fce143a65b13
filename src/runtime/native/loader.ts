import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { NativeBinding } from './binding.js';

/**
 * The only place that will `require()` the native GPU addon (after sharp's lib/sharp.mjs): it tries the
 * candidate paths in order, keeps every failure, and reports one reason a person can act on. Until the
 * addon exists (native/ is built only where CUDA is present), this says why the GPU is not usable, which
 * `serve` turns into its one warning (or, with --strict, Triton's refusal).
 */

export interface GpuProbe {
  readonly available: boolean;
  /** Why the GPU backend is not usable, or which addon was loaded and what it found. */
  readonly reason: string;
  /** The initialised addon, when available. */
  readonly binding?: NativeBinding;
}

export interface NativeLoad {
  /** The addon, when one loaded and exports the binding's functions. */
  readonly binding?: NativeBinding;
  /** Which addon was loaded, or every reason none was, with possible fixes. */
  readonly reason: string;
}

/** Seams for tests; production uses the file system and Node's require. */
export interface LoadOptions {
  readonly candidates?: readonly string[];
  readonly exists?: (path: string) => boolean;
  readonly load?: (path: string) => unknown;
}

const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));
const BINDING_FUNCTIONS = ['init', 'createSession', 'run', 'releaseSession'] as const;

/** Where a built addon may be, most specific first. */
export function addonCandidates(): string[] {
  return [
    process.env.OFSERVE_NATIVE_ADDON,
    `${packageRoot}native/build/Release/ofserve_native.node`,
    `${packageRoot}native/build/Debug/ofserve_native.node`,
  ].filter((p): p is string => Boolean(p));
}

function isBinding(mod: unknown): mod is NativeBinding {
  return typeof mod === 'object' && mod !== null && BINDING_FUNCTIONS.every((f) => typeof (mod as Record<string, unknown>)[f] === 'function');
}

/** What to try for a load error, by what the message says went wrong. */
function fixesFor(message: string): string[] {
  const fixes: string[] = [];
  if (/NODE_MODULE_VERSION|compiled against a different Node\.js version/i.test(message)) {
    fixes.push(`rebuild the addon for this Node.js (${process.version}): npm run build:native`);
  }
  if (/invalid ELF header|wrong ELF class|Exec format error|not a valid Win32 application|mach-o/i.test(message)) {
    fixes.push(`the addon was built for another platform; rebuild it on this ${process.platform}-${process.arch} machine`);
  }
  if (/lib(cuda|cudart|cudnn|cublas|cublasLt|nvrtc)\b|cannot open shared object file|Library not loaded/i.test(message)) {
    fixes.push('install the NVIDIA driver with the CUDA runtime, cuDNN and cuBLAS, and make them findable (ldconfig or LD_LIBRARY_PATH)');
  }
  if (/does not export/.test(message)) fixes.push('the file is not an ofserve addon (or an older one): rebuild native/ from this checkout');
  return fixes;
}

/**
 * Loads the first candidate addon that loads and exports the binding. Missing files are skipped
 * quietly (not building the addon is normal on CPU machines), except an OFSERVE_NATIVE_ADDON that was
 * asked for; every other failure is collected into the reason, with what to do about it.
 */
export function loadNativeBinding(options: LoadOptions = {}): NativeLoad {
  const candidates = options.candidates ?? addonCandidates();
  const exists = options.exists ?? existsSync;
  const load = options.load ?? createRequire(import.meta.url);
  const failures: string[] = [];
  const fixes = new Set<string>();

  for (const candidate of candidates) {
    if (!exists(candidate)) {
      if (candidate === process.env.OFSERVE_NATIVE_ADDON) failures.push(`${candidate} (OFSERVE_NATIVE_ADDON): no such file`);
      continue;
    }
    try {
      const mod = load(candidate);
      if (!isBinding(mod)) throw new Error(`does not export ${BINDING_FUNCTIONS.join(', ')}`);
      return { binding: mod, reason: `addon ${candidate}` };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      failures.push(`${candidate}: ${message}`);
      fixesFor(message).forEach((f) => fixes.add(f));
    }
  }

  const hasDevice = exists('/dev/nvidiactl') || exists('/dev/nvidia0');
  if (failures.length === 0) {
    return {
      reason: hasDevice
        ? 'the native GPU backend is not built on this machine (no native/build/Release/ofserve_native.node; build it with: npm run build:native)'
        : 'no NVIDIA device is present and the native GPU backend is not built',
    };
  }
  fixes.add('or point OFSERVE_NATIVE_ADDON at a working ofserve_native.node');
  return { reason: `the native GPU addon failed to load: ${failures.join('; ')}. Possible fixes: ${[...fixes].join('; ')}` };
}

/** The GPU is usable when the addon loads and its init() finds at least one CUDA device. */
export function probeGpu(options: LoadOptions = {}): GpuProbe {
  const { binding, reason } = loadNativeBinding(options);
  if (!binding) return { available: false, reason };
  try {
    const info = binding.init();
    if (info.devices.length === 0) {
      return { available: false, reason: `${reason} loaded but sees no CUDA device (check nvidia-smi and CUDA_VISIBLE_DEVICES)` };
    }
    const devices = info.devices.map((d) => `${d.ordinal}: ${d.name} (sm ${d.computeCapability}, ${Math.round(d.totalMemoryBytes / 2 ** 30)} GiB)`);
    return { available: true, binding, reason: `${reason}; cuDNN ${info.cudnnVersion}, cuBLAS ${info.cublasVersion}; GPU ${devices.join(', GPU ')}` };
  } catch (e) {
    return { available: false, reason: `${reason} loaded but CUDA is not usable: ${e instanceof Error ? e.message : String(e)}` };
  }
}
