import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SERVING_HEAP_GROWING_PERCENT, tuneHeapForServing } from '../../../src/server/heap-tuning.js';

describe('tuneHeapForServing', () => {
  it('sets the growth factor once the process runs, unless node was started with one', () => {
    const set: string[] = [];
    expect(tuneHeapForServing((f) => set.push(f), [])).toBe(true);
    expect(set).toEqual([`--heap-growing-percent=${SERVING_HEAP_GROWING_PERCENT}`]);
    expect(tuneHeapForServing((f) => set.push(f), ['--heap-growing-percent=50'])).toBe(false);
    expect(set).toHaveLength(1);
  });

  it('names a flag this node knows (setFlagsFromString would ignore a misspelt one without a word)', () => {
    const ok = spawnSync(process.execPath, [`--heap-growing-percent=${SERVING_HEAP_GROWING_PERCENT}`, '-e', '0'], { encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    // The check above can fail: node refuses a V8 flag it does not have.
    expect(spawnSync(process.execPath, ['--heap-growing-percentage=300', '-e', '0']).status).not.toBe(0);
  });
});
