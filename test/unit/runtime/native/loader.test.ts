import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NativeBinding } from '../../../../src/runtime/native/binding.js';
import { addonCandidates, loadNativeBinding, probeGpu } from '../../../../src/runtime/native/loader.js';
import { FakeNativeBinding, H100 } from '../../../fixtures/fake-native-binding.js';

const dir = mkdtempSync(join(tmpdir(), 'ofserve-loader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A CommonJS file standing in for the addon, loaded by the real require(). */
function addonFile(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
}
const API = 'exports.init = () => ({ devices: [], cudnnVersion: 0, cublasVersion: 0 }); exports.createSession = () => ({}); exports.run = async () => new Float32Array(); exports.releaseSession = () => {};';

describe('loadNativeBinding', () => {
  it('looks in OFSERVE_NATIVE_ADDON first, then native/build/Release and Debug', () => {
    const before = process.env.OFSERVE_NATIVE_ADDON;
    process.env.OFSERVE_NATIVE_ADDON = '/opt/x.node';
    try {
      const c = addonCandidates();
      expect(c[0]).toBe('/opt/x.node');
      expect(c.slice(1).map((p) => p.replace(/.*\/native\//, 'native/'))).toEqual(['native/build/Release/ofserve_native.node', 'native/build/Debug/ofserve_native.node']);
    } finally {
      if (before === undefined) delete process.env.OFSERVE_NATIVE_ADDON;
      else process.env.OFSERVE_NATIVE_ADDON = before;
    }
  });

  it('loads the first candidate that loads and exports the binding, after collecting earlier failures', () => {
    const broken = addonFile('broken.cjs', "throw new Error('libcudart.so.12: cannot open shared object file: No such file or directory');");
    const good = addonFile('good.cjs', API);
    const result = loadNativeBinding({ candidates: [join(dir, 'missing.node'), broken, good] });
    expect(result.reason).toBe(`addon ${good}`);
    expect(typeof result.binding?.init).toBe('function');
  });

  it('reports every failure, in order, with the fixes that fit each', () => {
    const broken = addonFile('cuda.cjs', "throw new Error('libcudnn.so.9: cannot open shared object file');");
    const stale = addonFile('stale.cjs', "throw new Error('was compiled against a different Node.js version using NODE_MODULE_VERSION 108');");
    const empty = addonFile('empty.cjs', 'exports.init = () => ({});');
    const result = loadNativeBinding({ candidates: [broken, stale, empty] });
    expect(result.binding).toBeUndefined();
    const r = result.reason;
    expect(r.startsWith('the native GPU addon failed to load: ')).toBe(true);
    expect(r.indexOf(broken)).toBeLessThan(r.indexOf(stale));
    expect(r.indexOf(stale)).toBeLessThan(r.indexOf(empty));
    expect(r).toContain(`${empty}: does not export init, createSession, run, releaseSession`);
    expect(r).toContain('Possible fixes: ');
    expect(r).toContain('cuDNN');
    expect(r).toContain(`rebuild the addon for this Node.js (${process.version})`);
    expect(r).toContain('OFSERVE_NATIVE_ADDON');
  });

  it('says the backend is not built when no candidate exists, and whether a device is present', () => {
    const none = (devices: boolean) => loadNativeBinding({ candidates: ['/nope/a.node'], exists: (p) => devices && p === '/dev/nvidia0' });
    expect(none(false)).toEqual({ reason: 'no NVIDIA device is present and the native GPU backend is not built' });
    expect(none(true).reason).toMatch(/^the native GPU backend is not built on this machine/);
  });
});

describe('probeGpu', () => {
  const withBinding = (binding: NativeBinding) => probeGpu({ candidates: ['/x/ofserve_native.node'], exists: () => true, load: () => binding });

  it('is available when the addon loads and init() lists a device, and says which', () => {
    const probe = withBinding(new FakeNativeBinding({ devices: [H100] }));
    expect(probe.available).toBe(true);
    expect(probe.reason).toBe('addon /x/ofserve_native.node; cuDNN 90100, cuBLAS 120400; GPU 0: NVIDIA H100 80GB HBM3 (sm 9.0, 80 GiB)');
  });

  it('is unavailable when init() throws or lists no device, or no addon loads', () => {
    expect(withBinding(new FakeNativeBinding({ initError: 'cuInit: CUDA_ERROR_NO_DEVICE' }))).toEqual({
      available: false,
      reason: 'addon /x/ofserve_native.node loaded but CUDA is not usable: cuInit: CUDA_ERROR_NO_DEVICE',
    });
    expect(withBinding(new FakeNativeBinding({ devices: [] })).reason).toContain('sees no CUDA device');
    expect(probeGpu({ candidates: [], exists: () => false })).toEqual({ available: false, reason: 'no NVIDIA device is present and the native GPU backend is not built' });
  });
});
