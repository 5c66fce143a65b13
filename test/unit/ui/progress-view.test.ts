import { join } from 'node:path';
import { createElement } from 'react';
import { render } from 'ink-testing-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify } from '../../../src/commands/classify.js';
import { ProgressView } from '../../../src/ui/progress-view.js';
import { solidImage, tempImageDir } from '../../fixtures/images.js';
import { fakeClassifier, startFakeServer } from '../client/fake-triton.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempImageDir());
  for (const n of ['a', 'b', 'c']) await solidImage(join(dir, `${n}.png`), { r: 255, g: 0, b: 0 }, 4, 4);
});
afterAll(() => cleanup());

describe('classify progress', () => {
  it('reports the images done after each request', async () => {
    const server = await startFakeServer(fakeClassifier({ maxBatchSize: 2, labels: ['red', 'green', 'blue'] }));
    try {
      const seen: [number, number, string][] = [];
      await classify({ images: ['a.png', 'b.png', 'c.png'], url: server.url, cwd: dir, onProgress: (d, t, m) => seen.push([d, t, m]) });
      expect(seen).toEqual([
        [2, 3, 'fake'],
        [3, 3, 'fake'],
      ]);
    } finally {
      await server.close();
    }
  });

  it('draws the bar with the count', () => {
    const { lastFrame, unmount } = render(createElement(ProgressView, { state: { label: 'classifying with fake', done: 1, total: 4 } }));
    expect(lastFrame()).toBe('classifying with fake █████░░░░░░░░░░░░░░░ 1/4 (25%)');
    unmount();
  });
});
