import { describe, expect, it } from 'vitest';
import { selectVersions } from '../../../../src/core/repository/version-policy.js';

const ctx = { model: 'm', file: 'm/config.pbtxt' };

describe('selectVersions', () => {
  it('serves the highest version when there is no policy', () => {
    expect(selectVersions(undefined, [3, 1, 10], ctx)).toEqual({ versions: [10], problems: [] });
  });

  it('serves the n numerically highest for latest(n)', () => {
    expect(selectVersions({ latest: { num_versions: 2 } }, [2, 10, 9, 1], ctx).versions).toEqual([9, 10]);
    expect(selectVersions({ latest: { num_versions: 5 } }, [2, 1], ctx).versions).toEqual([1, 2]);
  });

  it('serves every version for all', () => {
    expect(selectVersions({ all: {} }, [3, 1, 2], ctx).versions).toEqual([1, 2, 3]);
  });

  it('serves the listed versions that exist and warns about the missing ones', () => {
    const r = selectVersions({ specific: { versions: [1, 4] } }, [1, 2, 3], ctx);
    expect(r.versions).toEqual([1]);
    expect(r.problems).toEqual([
      expect.objectContaining({
        severity: 'warning',
        file: 'm/config.pbtxt',
        field: 'version_policy.specific.versions',
        message: "version 4 is specified for model 'm', but the version directory is not present",
      }),
    ]);
  });

  it("is an error with Triton's message when no version qualifies", () => {
    const r = selectVersions({ specific: { versions: [7] } }, [1, 2], ctx);
    expect(r.versions).toEqual([]);
    expect(r.problems.filter((p) => p.severity === 'error')).toEqual([
      expect.objectContaining({
        field: 'version_policy',
        message: "at least one version must be available under the version policy of model 'm'",
      }),
    ]);
  });

  it('reports more than one policy set at once', () => {
    const r = selectVersions({ latest: { num_versions: 1 }, all: {} }, [1], ctx);
    expect(r.problems[0]).toMatchObject({ severity: 'error', field: 'version_policy' });
    expect(r.problems[0].message).toMatch(/latest and all/);
  });

  it('rejects latest with num_versions below 1', () => {
    const r = selectVersions({ latest: { num_versions: -1 } }, [1], ctx);
    expect(r.problems.map((p) => p.field)).toContain('version_policy.latest.num_versions');
  });

  it('leaves an empty folder list to the caller', () => {
    expect(selectVersions(undefined, [], ctx)).toEqual({ versions: [], problems: [] });
  });
});
