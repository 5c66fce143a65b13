import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demo, DEMO_MODELS, formatDemoReport } from '../../../src/commands/demo.js';
import { stripAnsi } from '../../../src/commands/print.js';
import { imagenetLabels } from '../../fixtures/images.js';

/** The README's first command, as a function: writes the example, serves it on free ports, classifies. */

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ofserve-demo-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('ofserve demo', () => {
  it('writes the example repository, then classifies the bundled red image as red and the cat with ImageNet labels', async () => {
    const lines: string[] = [];
    const result = await demo({ cwd: dir, modelStore: 'model_repository', log: (l) => lines.push(l) });
    expect(result.wroteRepository).toBe(true);
    expect(result.modelStore).toBe(join(dir, 'model_repository'));

    const [colour, resnet] = result.classifications;
    expect(colour.model).toBe(DEMO_MODELS.colour);
    expect(colour.images[0].predictions[0].label).toBe('red');
    expect(resnet.model).toBe(DEMO_MODELS.resnet);
    const labels = (await readFile(imagenetLabels, 'utf8')).split('\n');
    for (const p of resnet.images[0].predictions) expect(p.label).toBe(labels[p.index]);

    const report = stripAnsi(formatDemoReport(result));
    expect(report).toContain('red');
    expect(report).toContain('seeded random weights');
    expect(lines.some((l) => l.includes('writing the example repository'))).toBe(true);
    // The server's start shows which model is loading while ResNet-50 takes its seconds.
    expect(lines).toEqual(expect.arrayContaining(['  loading: resnet50_oneflow:1', "  successfully loaded 'resnet50_oneflow' version 1"]));
  });

  it('reuses the repository on a second run', async () => {
    const lines: string[] = [];
    const result = await demo({ cwd: dir, modelStore: 'model_repository', log: (l) => lines.push(l) });
    expect(result.wroteRepository).toBe(false);
    expect(lines.some((l) => l.includes('using the example repository already in'))).toBe(true);
    expect(result.classifications[0].images[0].predictions[0].label).toBe('red');
  });
});
