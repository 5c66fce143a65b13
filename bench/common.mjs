// What the benchmark scripts share: their flags, the repository root, and `ofserve serve` as a child.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** The value after `--name` on the command line, or `fallback`. */
export function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** `ofserve serve` on `store` as a child process (metrics off); resolves once /v2/health/ready answers 200. */
export async function startServer(store) {
  const [http, grpc] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [path.join(root, 'bin/ofserve.js'), 'serve', '--model-store', store, '--http-port', String(http), '--grpc-port', String(grpc), '--allow-metrics', 'false', '--http-address', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = once(child, 'exit');
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`ofserve serve exited with ${child.exitCode}: ${stderr}`);
    const ok = await fetch(`http://127.0.0.1:${http}/v2/health/ready`).then((r) => r.ok, () => false);
    if (ok) return { http: `127.0.0.1:${http}`, grpc: `127.0.0.1:${grpc}`, stop: async () => (child.kill('SIGTERM'), await exited) };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`ofserve serve was not ready after 60 s: ${stderr}`);
}

export const round = (x) => Math.round(x * 100) / 100;
export const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The config.pbtxt line that lets a model's onnxruntime threads spin during runs. */
export const SPINNING_PARAMETER = 'parameters { key: "session.intra_op.allow_spinning" value: { string_value: "1" } }';

/** Stops every server that started, whatever the others do. */
export async function stopAll(servers) {
  await Promise.allSettled(servers.map((s) => s.stop()));
}
