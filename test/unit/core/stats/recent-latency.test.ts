import { describe, expect, it } from 'vitest';
import type { ModelIndexEntry } from '../../../../src/core/served-model.js';
import { composeObservers } from '../../../../src/core/stats/observers.js';
import { createRecentLatency, readyVersionRefs } from '../../../../src/core/stats/recent-latency.js';
import { createModelStats } from '../../../../src/core/stats/stats.js';
import type { StatsObserver } from '../../../../src/core/stats/model-stats.js';

const v = (model: string, version: string) => ({ model, version });

describe('createRecentLatency', () => {
  it('summarizes each live version and pools a model’s versions', () => {
    const recent = createRecentLatency({ clock: () => 0 });
    const a1 = recent.observer('a', '1');
    const a2 = recent.observer('a', '2');
    for (let i = 1; i <= 10; i++) a1.onSuccess(i * 1000, 0);
    for (let i = 11; i <= 20; i++) a2.onSuccess(i * 1000, 0);
    recent.observer('b', '1'); // loaded, no requests yet
    expect(recent.summarize([v('b', '1'), v('a', '1'), v('a', '2')])).toEqual([
      {
        model: 'a',
        count: 20,
        percentilesNs: { p50: 10_000, p90: 18_000, p99: 20_000 },
        versions: [
          { version: '1', count: 10, percentilesNs: { p50: 5000, p90: 9000, p99: 10_000 } },
          { version: '2', count: 10, percentilesNs: { p50: 15_000, p90: 19_000, p99: 20_000 } },
        ],
      },
      { model: 'b', count: 0, versions: [{ version: '1', count: 0 }] },
    ]);
  });

  it('lets samples expire with the window', () => {
    let now = 0;
    const recent = createRecentLatency({ windowMs: 1000, clock: () => now });
    const o = recent.observer('m', '1');
    o.onSuccess(5000, 0);
    now = 500;
    o.onSuccess(7000, 0);
    expect(recent.summarize([v('m', '1')])[0]).toMatchObject({ count: 2, percentilesNs: { p50: 5000, p99: 7000 } });
    now = 1200;
    expect(recent.summarize([v('m', '1')])[0]).toMatchObject({ count: 1, percentilesNs: { p50: 7000, p99: 7000 } });
    now = 5000;
    expect(recent.summarize([v('m', '1')])[0]).toEqual({ model: 'm', count: 0, versions: [{ version: '1', count: 0 }] });
  });

  it('bounds each version to `capacity` samples', () => {
    const recent = createRecentLatency({ capacity: 8, clock: () => 0 });
    const o = recent.observer('m', '1');
    for (let i = 0; i < 10_000; i++) o.onSuccess(i, 0);
    expect(recent.summarize([v('m', '1')])[0]).toMatchObject({ count: 8, percentilesNs: { p50: 9995, p99: 9999 } });
  });

  it('drops unloaded versions, and a version summarized while loading still counts once it serves', () => {
    const recent = createRecentLatency({ clock: () => 0 });
    const old = recent.observer('m', '1');
    old.onSuccess(1000, 0);
    const loading = recent.observer('m', '2');
    // Version 2 is not READY yet, version 1 is unloaded: neither is live.
    expect(recent.summarize([])).toEqual([]);
    loading.onSuccess(2000, 0);
    expect(recent.summarize([v('m', '2')])[0]).toMatchObject({ count: 1, percentilesNs: { p50: 2000 } });
    // A version loaded again starts empty: its earlier window went with the unload.
    expect(recent.summarize([v('m', '1')])[0]).toMatchObject({ count: 0 });
  });
});

describe('composeObservers', () => {
  it('reports every success to each observer, and is absent when there are none', () => {
    const seen: string[] = [];
    const spy = (tag: string): StatsObserver => ({ onSuccess: (r, q, c) => seen.push(`${tag}:${r}:${q}:${c?.inferNs ?? '-'}`) });
    expect(composeObservers(undefined, undefined)).toBeUndefined();
    const one = spy('one');
    expect(composeObservers(undefined, one)).toBe(one);
    const stats = createModelStats(Date.now, composeObservers(spy('a'), undefined, spy('b')));
    stats.recordSuccess(500, 40, { inputNs: 1, inferNs: 2, outputNs: 3 });
    expect(seen).toEqual(['a:500:40:2', 'b:500:40:2']);
  });
});

describe('readyVersionRefs', () => {
  it('lists the READY versions, asking for them when the index row has none', () => {
    const index: ModelIndexEntry[] = [
      { name: 'a', version: '1', state: 'READY' },
      { name: 'a', version: '2', state: 'LOADING' },
      { name: 'b', state: 'READY' },
      { name: 'gone', state: 'READY' },
      { name: 'c', state: 'UNAVAILABLE' },
    ];
    const readyVersions = (name: string): string[] => {
      if (name === 'gone') throw new Error('unloaded meanwhile');
      return ['3', '4'];
    };
    expect(readyVersionRefs({ index: () => index, readyVersions })).toEqual([v('a', '1'), v('b', '3'), v('b', '4')]);
  });
});
