import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The only place that will `require()` the native GPU addon (after sharp's lib/sharp.mjs): it tries the
 * candidate paths in order, keeps every failure, and reports one reason a person can act on. Until the
 * addon exists (native/ is built only where CUDA is present), this says why the GPU is not usable, which
 * `serve` turns into its one warning (or, with --strict, Triton's refusal).
 */

export interface GpuProbe {
  readonly available: boolean;
  /** Why the GPU backend is not usable, or which addon was loaded. */
  readonly reason: string;
}

const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Where a built addon may be, most specific first. */
export function addonCandidates(): string[] {
  return [
    process.env.OFSERVE_NATIVE_ADDON,
    `${packageRoot}native/build/Release/ofserve_native.node`,
    `${packageRoot}native/build/Debug/ofserve_native.node`,
  ].filter((p): p is string => Boolean(p));
}

export function probeGpu(): GpuProbe {
  const failures: string[] = [];
  const hasDevice = existsSync('/dev/nvidiactl') || existsSync('/dev/nvidia0');
  const require = createRequire(import.meta.url);
  for (const candidate of addonCandidates()) {
    if (!existsSync(candidate)) continue;
    try {
      require(candidate);
      if (!hasDevice) return { available: false, reason: `addon ${candidate} loaded but no NVIDIA device is present (/dev/nvidia0)` };
      return { available: true, reason: `addon ${candidate}` };
    } catch (e) {
      failures.push(`${candidate}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (failures.length) return { available: false, reason: `the native GPU addon failed to load: ${failures.join('; ')}` };
  return {
    available: false,
    reason: hasDevice
      ? 'the native GPU backend is not built on this machine (no native/build/Release/ofserve_native.node)'
      : 'no NVIDIA device is present and the native GPU backend is not built',
  };
}
