import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FromWorker, LoadMessage, WorkerConfig } from './protocol.js';

/**
 * The tsx ESM API as a file URL. It is resolved by hand from tsx's exports map because require.resolve
 * picks the CommonJS build, whose register() cannot load tsx's own ESM half.
 */
function tsxEsmApi(from: string): string {
  const pkgPath = createRequire(from).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const entry = pkg.exports['./esm/api']?.import.default;
  if (!entry) throw new Error('tsx has no ./esm/api export');
  return pathToFileURL(join(dirname(pkgPath), entry)).href;
}

/**
 * The worker's entry: `worker.js` beside this file once built. From TypeScript sources (vitest, tsx)
 * it is `worker.ts`, and the thread must register tsx itself first: Node 20 ignores `--import` in a
 * worker's execArgv, so a small inline bootstrap registers tsx's ESM hooks and then imports the worker.
 */
function newWorker(config: WorkerConfig): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here), { workerData: config });
  const entry = new URL('./worker.ts', here).href;
  const bootstrap = `import(${JSON.stringify(tsxEsmApi(here))}).then((tsx) => tsx.register()).then(() => import(${JSON.stringify(entry)}))`;
  return new Worker(bootstrap, { eval: true, workerData: config });
}

export type StartResult = { readonly ok: true; readonly worker: Worker } | { readonly ok: false; readonly message: string };

/** Starts a worker and waits until its ORT session is created (or failed to be). */
export function startWorker(config: WorkerConfig, model: Uint8Array): Promise<StartResult> {
  const worker = newWorker(config);
  worker.postMessage({ type: 'load', model } satisfies LoadMessage);
  return new Promise((resolve) => {
    const settle = (result: StartResult): void => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (!result.ok) void worker.terminate();
      resolve(result);
    };
    const onMessage = (msg: FromWorker): void => {
      if (msg.type === 'ready') settle({ ok: true, worker });
      else if (msg.type === 'load-failed') settle({ ok: false, message: msg.message });
    };
    const onError = (e: Error): void => settle({ ok: false, message: e.message });
    const onExit = (code: number): void => settle({ ok: false, message: `worker exited with code ${code} before the session was ready` });
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}
