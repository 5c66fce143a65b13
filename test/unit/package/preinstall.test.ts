/**
 * scripts/preinstall.mjs, run the way npm runs it in a consumer's tree: node_modules/ofserve beside a
 * node_modules/onnxruntime-node whose install metadata names a feed this test controls. Offline, the
 * install stops before onnxruntime-node's download with the exact setting that skips it; with the
 * setting, a reachable feed, or the files already there, it gets out of the way silently.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../../scripts/preinstall.mjs', import.meta.url));
const PLATFORM = `${process.platform}/${process.arch}`;
const CUDA_FILES = ['./libonnxruntime_providers_cuda.so', './libonnxruntime_providers_shared.so'];

let tmp: string;
let server: Server;
let liveFeed: string;
let deadFeed: string;

/** A consumer tree whose onnxruntime-node would fetch from `feed`; returns the ofserve script's path. */
async function tree(name: string, feed: string, opts: { withCudaFiles?: boolean; withOrt?: boolean } = {}): Promise<string> {
  const root = path.join(tmp, name, 'node_modules');
  const script = path.join(root, 'ofserve', 'scripts', 'preinstall.mjs');
  await mkdir(path.dirname(script), { recursive: true });
  await copyFile(SCRIPT, script);
  await writeFile(path.join(root, 'ofserve', 'package.json'), '{"name":"ofserve","type":"module"}');
  if (opts.withOrt === false) return script;
  const ort = path.join(root, 'onnxruntime-node');
  await mkdir(path.join(ort, 'script'), { recursive: true });
  await writeFile(path.join(ort, 'package.json'), '{"name":"onnxruntime-node"}');
  const manifest = Object.fromEntries(CUDA_FILES.map((f) => [f, { package: 'nuget:gpu', path: `runtimes/${f}` }]));
  const metadata = {
    requirements: { [PLATFORM]: ['cuda12'] },
    manifests: { [`${PLATFORM}:cuda12`]: manifest },
    packages: { 'nuget:gpu': { name: 'Microsoft.ML.OnnxRuntime.Gpu.Linux', versions: [{ feed: 'nuget', version: '1.30.0' }] } },
    feeds: { nuget: { type: 'nuget', index: feed } },
  };
  await writeFile(path.join(ort, 'script', 'install-metadata.js'), `module.exports = ${JSON.stringify(metadata)};\n`);
  if (opts.withCudaFiles) {
    const bin = path.join(ort, 'bin', 'napi-v6', PLATFORM);
    await mkdir(bin, { recursive: true });
    for (const f of CUDA_FILES) await writeFile(path.join(bin, f), '');
  }
  return script;
}

/** The environment without any onnxruntime-node setting (npm test itself passes the project's .npmrc one). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(ONNXRUNTIME_NODE_INSTALL|npm_config_onnxruntime_node_install|GLOBAL_AGENT_)/i.test(k)) delete env[k];
  }
  return { ...env, ...extra };
}

async function preinstall(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [script], { env, cwd: path.dirname(script), timeout: 30_000 });
    return { code: 0, stderr };
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stderr: err.stderr ?? String(e) };
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'ofserve-preinstall-'));
  server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  liveFeed = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3/index.json`;
  // A port that was just free and is now closed: connections are refused, as on a machine without the feed.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  deadFeed = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/v3/index.json`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(tmp, { recursive: true, force: true });
});

describe('preinstall: onnxruntime-node without its download feed', () => {
  it('stops the install with the setting that skips the download, naming the feed', async () => {
    const script = await tree('offline', deadFeed);
    const r = await preinstall(script, cleanEnv());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(deadFeed);
    expect(r.stderr).toContain('ECONNREFUSED');
    expect(r.stderr).toContain('ONNXRUNTIME_NODE_INSTALL=skip npm install');
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  it('gets out of the way when the user set any of onnxruntime-node flags', async () => {
    const script = await tree('flags', deadFeed);
    for (const flag of ['ONNXRUNTIME_NODE_INSTALL', 'npm_config_onnxruntime_node_install', 'ONNXRUNTIME_NODE_INSTALL_CUDA', 'npm_config_onnxruntime_node_install_cuda']) {
      expect(await preinstall(script, cleanEnv({ [flag]: 'skip' })), flag).toEqual({ code: 0, stderr: '' });
    }
  });

  it('lets onnxruntime-node download when its feed answers, or when a global-agent proxy will carry it', async () => {
    expect(await preinstall(await tree('online', liveFeed), cleanEnv())).toEqual({ code: 0, stderr: '' });
    expect(await preinstall(await tree('proxied', deadFeed), cleanEnv({ GLOBAL_AGENT_HTTPS_PROXY: 'http://proxy.invalid:3128' }))).toEqual({ code: 0, stderr: '' });
  });

  it('does not probe when the files are already there or onnxruntime-node is not in the tree', async () => {
    expect(await preinstall(await tree('present', deadFeed, { withCudaFiles: true }), cleanEnv())).toEqual({ code: 0, stderr: '' });
    expect(await preinstall(await tree('no-ort', deadFeed, { withOrt: false }), cleanEnv())).toEqual({ code: 0, stderr: '' });
  });
});
