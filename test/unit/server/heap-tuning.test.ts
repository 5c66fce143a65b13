import { describe, expect, it } from 'vitest';
import { SERVING_HEAP_GROWING_PERCENT, tuneHeapForServing } from '../../../src/server/heap-tuning.js';

describe('tuneHeapForServing', () => {
  it('sets the growth factor once the process runs, unless node flags or NODE_OPTIONS chose one', () => {
    const set: string[] = [];
    expect(tuneHeapForServing((f) => set.push(f), [], undefined)).toBe(true);
    expect(set).toEqual([`--heap-growing-percent=${SERVING_HEAP_GROWING_PERCENT}`]);
    expect(tuneHeapForServing((f) => set.push(f), ['--heap-growing-percent=50'], undefined)).toBe(false);
    expect(tuneHeapForServing((f) => set.push(f), [], '--max-old-space-size=512 --heap-growing-percent=120')).toBe(false);
    expect(set).toHaveLength(1);
  });
});
