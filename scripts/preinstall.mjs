#!/usr/bin/env node
// Runs when ofserve is installed as a package (npm runs every package's preinstall before any
// postinstall). onnxruntime-node's postinstall downloads its CUDA providers from NuGet on linux/x64 and
// fails the whole install when NuGet cannot be reached; ofserve runs onnxruntime on the CPU and never
// loads those files. A project's .npmrc does not reach its consumers, so this check probes the exact
// feed onnxruntime-node is about to use and, when it is unreachable, stops with the one setting that
// skips the download. Node built-ins only: nothing else is guaranteed to be there yet.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ORT = 'onnxruntime-node';
const PROBE_TIMEOUT_MS = 10_000;

/** The environment variables through which onnxruntime-node's install script takes a decision. */
const ORT_FLAGS = [
  'ONNXRUNTIME_NODE_INSTALL',
  'npm_config_onnxruntime_node_install',
  'ONNXRUNTIME_NODE_INSTALL_CUDA',
  'npm_config_onnxruntime_node_install_cuda',
];
/** global-agent's proxy variables, which onnxruntime-node's downloader honours (a direct probe would not). */
const PROXY_VARS = ['GLOBAL_AGENT_HTTPS_PROXY', 'GLOBAL_AGENT_HTTP_PROXY'];

/** onnxruntime-node's folder as Node would resolve it from ofserve's own: nested first, then hoisted. */
function findOrt(fromDir) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', ORT);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** The feeds onnxruntime-node will fetch for this platform, read from its own install metadata. */
function feedsToProbe(ortDir, platform) {
  const meta = createRequire(path.join(ortDir, 'package.json'))(path.join(ortDir, 'script', 'install-metadata.js'));
  const binDir = path.join(ortDir, 'bin', 'napi-v6', platform);
  const feeds = new Set();
  for (const name of meta.requirements?.[platform] ?? []) {
    const manifest = meta.manifests?.[`${platform}:${name}`] ?? {};
    for (const [file, { package: pkg }] of Object.entries(manifest)) {
      if (existsSync(path.join(binDir, file))) continue;
      // onnxruntime-node gives up at the first candidate whose feed does not answer.
      const first = meta.packages?.[pkg]?.versions?.[0];
      const index = first && meta.feeds?.[first.feed]?.index;
      if (index) feeds.add(index);
    }
  }
  return [...feeds];
}

async function unreachable(url) {
  try {
    await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    return undefined;
  } catch (e) {
    if (e?.name === 'TimeoutError') return `no answer in ${PROBE_TIMEOUT_MS / 1000} s`;
    const cause = e?.cause;
    return [cause?.code ?? cause?.message ?? e?.message ?? String(e), cause?.hostname].filter(Boolean).join(' ');
  }
}

async function main() {
  if (ORT_FLAGS.some((v) => process.env[v])) return 0;
  if (PROXY_VARS.some((v) => process.env[v])) return 0;
  const here = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  const ortDir = findOrt(here);
  if (!ortDir) return 0;
  let feeds;
  try {
    feeds = feedsToProbe(ortDir, `${process.platform}/${process.arch}`);
  } catch {
    return 0; // an onnxruntime-node whose layout this check does not know: let its own script decide
  }
  for (const feed of feeds) {
    const why = await unreachable(feed);
    if (!why) continue;
    process.stderr.write(
      [
        `ofserve: onnxruntime-node's install step is about to download its CUDA provider libraries from`,
        `  ${feed}, which this machine cannot reach (${why}).`,
        `ofserve runs onnxruntime on the CPU and does not use them. Install again with the download skipped:`,
        `  ONNXRUNTIME_NODE_INSTALL=skip npm install <the same arguments>`,
        '',
      ].join('\n'),
    );
    return 1;
  }
  return 0;
}

process.exitCode = await main();
