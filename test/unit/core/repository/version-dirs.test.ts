import { describe, expect, it } from 'vitest';
import { parseVersionDirName } from '../../../../src/core/repository/version-dirs.js';

describe('parseVersionDirName', () => {
  it('takes integer names as versions', () => {
    expect(parseVersionDirName('1')).toEqual({ kind: 'version', version: 1 });
    expect(parseVersionDirName('0')).toEqual({ kind: 'version', version: 0 });
    expect(parseVersionDirName('20240101')).toEqual({ kind: 'version', version: 20240101 });
  });

  it('skips names with leading zeros with a warning', () => {
    const r = parseVersionDirName('01');
    expect(r.kind).toBe('ignored');
    expect(r.kind === 'ignored' && r.warning).toMatch(/'01'.*leading zeros/);
  });

  it('skips non-integer names with a warning', () => {
    for (const name of ['v1', '1.0', '-1', '1abc', '.ipynb_checkpoints']) {
      const r = parseVersionDirName(name);
      expect(r.kind, name).toBe('ignored');
      expect(r.kind === 'ignored' && r.warning).toMatch(/fails to convert to integral number/);
    }
  });

  it('skips warmup, initial_state and configs silently', () => {
    for (const name of ['warmup', 'initial_state', 'configs']) expect(parseVersionDirName(name)).toEqual({ kind: 'skipped' });
  });

  it('refuses versions a JS number cannot hold exactly', () => {
    expect(parseVersionDirName('9007199254740993').kind).toBe('ignored');
  });
});
