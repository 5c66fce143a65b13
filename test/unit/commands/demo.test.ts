import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classify } from '../../../src/commands/classify.js';
import { demo, DEMO_IMAGES, DEMO_MODELS, formatDemoReport } from '../../../src/commands/demo.js';
import { serve } from '../../../src/commands/serve.js';
import { formatJson, stripAnsi } from '../../../src/commands/print.js';
import { jsonShapeMismatches } from '../../fixtures/json-docs.js';
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

    // What `demo --json` prints has the shape docs/json.md gives.
    expect(jsonShapeMismatches('demo', JSON.parse(formatJson(result)))).toEqual([]);

    const report = stripAnsi(formatDemoReport(result));
    expect(report).toContain('red');
    expect(report).toContain('seeded random weights');
    expect(lines.some((l) => l.includes('writing the example repository'))).toBe(true);
    // The server's start shows which model is loading while ResNet-50 takes its seconds.
    expect(lines).toEqual(expect.arrayContaining(['  loading: resnet50_oneflow:1', "  successfully loaded 'resnet50_oneflow' version 1"]));
  });

  it('`classify cat.jpg --top 3` without -m uses resnet50_oneflow on the example repository, and says why', async () => {
    const server = await serve({
      cwd: dir,
      modelStore: join(dir, 'model_repository'),
      httpPort: 0,
      grpcPort: undefined,
      metricsPort: undefined,
      address: '127.0.0.1',
      quiet: true,
      installSignalHandlers: false,
    });
    try {
      const result = await classify({ cwd: dir, images: [DEMO_IMAGES.cat], url: server.urls.http as string, top: 3 });
      expect(result.model).toBe(DEMO_MODELS.resnet);
      expect(result.output).toBe('OUTPUT_0');
      expect(result.images[0].predictions).toHaveLength(3);
      expect(result.notes.join('\n')).toContain(`using model '${DEMO_MODELS.resnet}', the repository's default for classify`);
    } finally {
      await server.close();
    }
  });

  it('reuses the repository on a second run', async () => {
    const lines: string[] = [];
    const result = await demo({ cwd: dir, modelStore: 'model_repository', log: (l) => lines.push(l) });
    expect(result.wroteRepository).toBe(false);
    expect(lines.some((l) => l.includes('using the example repository already in'))).toBe(true);
    expect(result.classifications[0].images[0].predictions[0].label).toBe('red');
  });
});
