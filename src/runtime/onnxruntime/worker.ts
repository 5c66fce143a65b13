import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { FromWorker, LoadMessage, ToWorker, WorkerConfig } from './protocol.js';
import { sessionOptionsOf } from './session-options.js';
import { fromOrtTensor, toOrtTensor } from './tensors.js';

/**
 * Owns one ort.InferenceSession. It runs in a worker because onnxruntime-node's run() holds the JS
 * thread for the whole inference; here that only stalls this thread, not the server's event loop.
 */

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function post(port: MessagePort, msg: FromWorker): void {
  const outputs = msg.type === 'result' ? msg.outputs.map((t) => t.data.buffer as ArrayBuffer) : [];
  const inputs = msg.type === 'result' || msg.type === 'run-failed' ? msg.inputs : [];
  port.postMessage(msg, [...outputs, ...inputs]);
}

async function run(session: ort.InferenceSession, msg: Extract<ToWorker, { type: 'run' }>): Promise<FromWorker> {
  // Distinct buffers only: two inputs may share one, and a buffer can be transferred once.
  const inputs = [...new Set(msg.inputs.map((t) => t.data.buffer as ArrayBuffer))];
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const t of msg.inputs) feeds[t.name] = toOrtTensor(t);
    const names = msg.outputNames ?? session.outputNames;
    const results = await session.run(feeds, [...names]);
    const outputs = names.map((name) => {
      const t = results[name];
      if (!t) throw new Error(`onnxruntime returned no output '${name}'`);
      return fromOrtTensor(name, t);
    });
    return { type: 'result', id: msg.id, outputs, inputs };
  } catch (e) {
    return { type: 'run-failed', id: msg.id, message: errorMessage(e), inputs };
  }
}

async function main(port: MessagePort, config: WorkerConfig, load: LoadMessage): Promise<void> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(load.model, sessionOptionsOf(config));
  } catch (e) {
    // With no message listener nothing keeps this thread alive: it exits after the message goes out.
    post(port, { type: 'load-failed', message: errorMessage(e) });
    return;
  }
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'close') {
      // terminate() alone would leave the session's native memory behind.
      void session.release().finally(() => port.close());
      return;
    }
    void run(session, msg).then((reply) => post(port, reply));
  });
  post(port, { type: 'ready' });
}

if (!parentPort) throw new Error('the onnxruntime worker must run in a worker thread');
const port = parentPort;
port.once('message', (load: LoadMessage) => void main(port, workerData as WorkerConfig, load));
