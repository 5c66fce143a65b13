import { describe, expect, it } from 'vitest';
import { ModelLifecycle, type ModelRecord } from '../../../../src/core/repository/model-lifecycle.js';
import { sumModel } from '../../../fixtures/fake-models.js';

const ready = (name: string, version = '1'): ModelRecord => {
  const m = sumModel({ name });
  return { name, fingerprint: 'fp', versions: [{ version, state: 'READY', served: { ...m, version }, sessions: m.sessions }] };
};

describe('ModelLifecycle', () => {
  it('serves the highest READY version, and names what is missing', () => {
    const lc = new ModelLifecycle();
    const m = sumModel({ name: 'a' });
    lc.commit({
      name: 'a',
      fingerprint: 'fp',
      versions: [
        { version: '1', state: 'READY', served: m, sessions: [] },
        { version: '2', state: 'UNAVAILABLE', reason: 'bad payload', sessions: [] },
      ],
    });
    expect(lc.get('a')).toBe(m);
    expect(lc.readyVersions('a')).toEqual(['1']);
    expect(() => lc.get('a', '2')).toThrow(/not ready|unavailable/i);
    expect(() => lc.get('a', '7')).toThrow(/version/);
    expect(() => lc.get('b')).toThrow("Request for unknown model: 'b' is not found");
  });

  it('strict readiness: a failed model is skipped, a loading one is not ready (Triton)', () => {
    const lc = new ModelLifecycle();
    lc.commit(ready('a'));
    expect(lc.allReady()).toBe(true);
    lc.fail('broken', 'config.pbtxt:1:1: syntax', 'fp');
    expect(lc.index()).toContainEqual({ name: 'broken', state: 'UNAVAILABLE', reason: 'config.pbtxt:1:1: syntax' });
    expect(lc.allReady()).toBe(true);
    lc.beginLoad('c', ['1']);
    expect(lc.index()).toContainEqual({ name: 'c', version: '1', state: 'LOADING' });
    expect(lc.allReady()).toBe(false);
    lc.commit(ready('c'));
    expect(lc.allReady()).toBe(true);
  });

  it('shows a new version LOADING beside the one that still serves', () => {
    const lc = new ModelLifecycle();
    lc.commit(ready('a', '1'));
    lc.beginLoad('a', ['1', '2']);
    expect(lc.index()).toEqual([
      { name: 'a', version: '1', state: 'READY' },
      { name: 'a', version: '2', state: 'LOADING' },
    ]);
  });

  it('a failed reload keeps the serving versions and takes the new fingerprint', () => {
    const lc = new ModelLifecycle();
    const record = ready('a');
    lc.commit(record);
    expect(lc.fail('a', 'bad edit', 'fp2')).toBe(true);
    expect(lc.record('a')).toBe(record);
    expect(record.fingerprint).toBe('fp2');
    expect(lc.readyVersions('a')).toEqual(['1']);
  });

  it('drain stops the scheduler and disposes the sessions, marking versions UNLOADING', async () => {
    const lc = new ModelLifecycle();
    const record = ready('a');
    lc.commit(record);
    expect(lc.remove('a')).toBe(record);
    await ModelLifecycle.drain(record);
    expect(record.versions[0].state).toBe('UNLOADING');
    expect(record.versions[0].sessions.every((s) => (s as { disposed?: boolean }).disposed)).toBe(true);
    expect(lc.index()).toEqual([]);
  });

  it("serializes one model's tasks but lets other models' run beside them", async () => {
    const lc = new ModelLifecycle();
    const log: string[] = [];
    let openA!: () => void;
    const gateA = new Promise<void>((r) => (openA = r));
    const a1 = lc.serialize('a', async () => {
      log.push('a1 start');
      await gateA;
      log.push('a1 end');
    });
    const a2 = lc.serialize('a', async () => void log.push('a2'));
    const b1 = lc.serialize('b', async () => void log.push('b1'));
    await b1;
    expect(log).toEqual(['a1 start', 'b1']);
    openA();
    await Promise.all([a1, a2]);
    expect(log).toEqual(['a1 start', 'b1', 'a1 end', 'a2']);
    await lc.settled();
  });

  it('a failed task does not block the next one of the same model', async () => {
    const lc = new ModelLifecycle();
    await expect(lc.serialize('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await lc.serialize('a', async () => 'next')).toBe('next');
  });
});
