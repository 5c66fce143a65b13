import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_FILENAME } from '../core/config/constants.js';
import { classify, formatClassifyTable, type ClassifyResult } from './classify.js';
import { exists } from './exists.js';
import { init } from './init.js';
import { serve } from './serve.js';

export interface DemoOptions {
  readonly cwd: string;
  /** Where the example repository is (or will be) written. */
  readonly modelStore: string;
  /** Progress lines for a person; undefined = quiet. */
  readonly log?: (line: string) => void;
}

export interface DemoResult {
  readonly modelStore: string;
  readonly wroteRepository: boolean;
  readonly url: string;
  readonly classifications: readonly ClassifyResult[];
}

/** The example repository's two models and the bundled image each one is shown. */
export const DEMO_MODELS = { colour: 'color_classifier', resnet: 'resnet50_oneflow' } as const;

const imagesDir = fileURLToPath(new URL('../../templates/images/', import.meta.url));
export const DEMO_IMAGES = { red: path.join(imagesDir, 'red.png'), cat: path.join(imagesDir, 'cat.jpg') } as const;


/**
 * The README's first command: write the example repository (unless it is already there), serve it on
 * free ports, classify the bundled images through the HTTP API exactly as `ofserve classify` does, stop.
 */
export async function demo(opts: DemoOptions): Promise<DemoResult> {
  const log = opts.log ?? (() => {});
  const store = path.resolve(opts.cwd, opts.modelStore);
  const present = await exists(path.join(store, DEMO_MODELS.resnet, CONFIG_FILENAME));
  if (!present) {
    log(`writing the example repository to ${store} (OneFlow ResNet-50 with seeded weights + colour classifier)…`);
    await init({ cwd: opts.cwd, repository: opts.modelStore, example: true });
  } else {
    log(`using the example repository already in ${store}`);
  }

  log('starting the server on free ports…');
  const server = await serve({
    cwd: opts.cwd,
    modelStore: store,
    httpPort: 0,
    grpcPort: undefined,
    metricsPort: undefined,
    address: '127.0.0.1',
    // Only the model loading shows: ResNet-50 takes seconds, and the user sees which model is on.
    logger: {
      info: (m) => {
        if (/^(loading: |successfully loaded )/.test(m)) log(`  ${m}`);
      },
      warn: () => undefined,
      error: (m) => log(`  ${m}`),
      verbose: () => undefined,
    },
    installSignalHandlers: false,
  });
  try {
    const url = server.urls.http as string;
    const classifications: ClassifyResult[] = [];
    for (const [model, image] of [
      [DEMO_MODELS.colour, DEMO_IMAGES.red],
      [DEMO_MODELS.resnet, DEMO_IMAGES.cat],
    ] as const) {
      log(`classifying ${path.basename(image)} with ${model}…`);
      classifications.push(await classify({ cwd: opts.cwd, images: [image], model, url, top: 3 }));
    }
    return { modelStore: store, wroteRepository: !present, url, classifications };
  } finally {
    await server.close();
  }
}

export function formatDemoReport(r: DemoResult): string {
  const parts = r.classifications.map((c) => `${c.model}:\n${formatClassifyTable(c)}`);
  return [
    ...parts,
    '',
    `The ResNet-50 has seeded random weights (no pretrained weights can be downloaded here), so its labels`,
    `are not meaningful; the colour classifier's weights are constructed, so red comes back "red".`,
    `Serve the repository yourself:  npx ofserve serve --model-store ${path.relative(process.cwd(), r.modelStore) || '.'}`,
    `then:                          npx ofserve classify ${path.relative(process.cwd(), DEMO_IMAGES.cat)} --top 3   (uses ${DEMO_MODELS.resnet}; -m NAME for another)`,
  ].join('\n');
}
