// The least a Node server can add to an inference, measured the way serve-throughput measures ofserve:
// a bare server in its own process (node:http, or grpc-js with a raw-bytes method: no framework, no
// protocol decoding, no validation) that joins each request's body, hands it to a worker thread that
// busy-waits for the direct inference's p50 (standing in for onnxruntime, which keeps its cores busy in
// the same way) and answers 4 KB once the worker hands the body back. A closed-loop client at
// concurrency 1 in this process drives it. Its p50 minus the hold is what moving the same bytes and
// waking the same threads costs on this machine, before ofserve does anything of its own.
//
//   node bench/transport-floor.mjs --serve http|grpc --port N --hold MS   (the child; started by floor())
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import grpc from '@grpc/grpc-js';
import { arg, freePort, median, root } from './common.mjs';

const METHOD = '/ofserve.bench.Floor/Infer';
const raw = (b) => b;
const ANSWER = Buffer.alloc(4096, 0x20);

const holdWorker = `
const { parentPort, workerData } = require('node:worker_threads');
parentPort.on('message', (body) => {
  const end = performance.now() + workerData.holdMs;
  while (performance.now() < end);
  parentPort.postMessage(body, [body.buffer]);
});
`;

/** The child: a bare server whose one worker holds each request for `holdMs`. */
async function serve(protocol, port, holdMs) {
  const worker = new Worker(holdWorker, { eval: true, workerData: { holdMs } });
  const waiting = [];
  let spare;
  worker.on('message', (body) => {
    spare = body.buffer;
    waiting.shift()?.();
  });
  // Each body is joined into one reused buffer that travels to the worker and back by transfer: what
  // any server has to do to get a request's bytes to an inference thread.
  const hold = (chunks) => new Promise((resolve) => {
    waiting.push(resolve);
    const length = chunks.reduce((n, c) => n + c.length, 0);
    const own = spare && spare.byteLength >= length ? new Uint8Array(spare, 0, length) : new Uint8Array(length);
    spare = undefined;
    let at = 0;
    for (const c of chunks) (own.set(c, at), (at += c.length));
    worker.postMessage(own, [own.buffer]);
  });
  if (protocol === 'http') {
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        await hold(chunks);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': ANSWER.length });
        res.end(ANSWER);
      });
    });
    server.keepAliveTimeout = 60_000;
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
  } else {
    const { widenFlowControl } = await import('../dist/server/grpc/server.js');
    const server = new grpc.Server({ 'grpc.max_receive_message_length': -1 });
    const definition = { Infer: { path: METHOD, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } };
    server.addService(definition, { Infer: (call, callback) => void hold([call.request]).then(() => callback(null, ANSWER)) });
    await new Promise((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    // The same HTTP/2 windows as ofserve's gRPC endpoint, so both move a 600 KB request alike.
    widenFlowControl(server);
  }
  process.stdout.write('ready\n');
}

function httpClient(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const send = (body) => new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'content-type': 'application/octet-stream', 'content-length': body.length } }, (res) => {
      res.on('data', () => {});
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(body);
  });
  return { send, close: () => agent.destroy() };
}

function grpcClient(port) {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 });
  const send = (body) => new Promise((resolve, reject) => client.makeUnaryRequest(METHOD, raw, raw, body, (e) => (e ? reject(e) : resolve())));
  return { send, close: () => client.close() };
}

/**
 * Starts the bare server for `protocol`, sends `bodyBytes` requests back to back for `seconds` after a
 * warm-up, and returns the client's p50 and p50 minus the hold (the floor), in ms.
 */
export async function floor({ protocol, holdMs, bodyBytes, seconds }) {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(root, 'bench/transport-floor.mjs'), '--serve', protocol, '--port', String(port), '--hold', String(holdMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  let client;
  try {
    // Ready, or gone (a port taken since freePort, a missing build): never wait forever.
    const ready = await Promise.race([once(child.stdout, 'data').then(() => true), exited.then(() => false)]);
    if (!ready) throw new Error(`the ${protocol} floor server exited before it was ready (exit code ${child.exitCode})`);
    client = protocol === 'http' ? httpClient(port) : grpcClient(port);
    const body = Buffer.alloc(bodyBytes, 1);
    for (let i = 0; i < 10; i++) await client.send(body);
    const latencies = [];
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      const t = performance.now();
      await client.send(body);
      latencies.push(performance.now() - t);
    }
    const p50 = median(latencies);
    return { p50_ms: p50, floor_ms: p50 - holdMs, requests: latencies.length };
  } finally {
    client?.close();
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  }
}

if (process.argv.includes('--serve')) await serve(arg('--serve'), Number(arg('--port')), Number(arg('--hold')));
