/**
 * A tiny node:http server that speaks just enough of Triton's HTTP wire to test the client, classify
 * and perf. Its codec is written independently of src/client (straight from the protocol notes) so
 * the tests do not check the client against itself.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export type Handler = (req: RecordedRequest) => FakeReply | Promise<FakeReply>;

export interface FakeServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** TCP connections accepted so far (keep-alive reuse keeps this low). */
  connections(): number;
  close(): Promise<void>;
}

export async function startFakeServer(handler: Handler): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(recorded);
      Promise.resolve(handler(recorded))
        .then((reply) => {
          const body = reply.body === undefined ? Buffer.alloc(0) : Buffer.from(reply.body);
          res.writeHead(reply.status ?? 200, { 'Content-Length': String(body.length), ...reply.headers });
          res.end(body);
        })
        .catch((e: unknown) => {
          const body = JSON.stringify({ error: `fake server: ${String(e)}` });
          res.writeHead(500, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
          res.end(body);
        });
    });
  });
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `127.0.0.1:${port}`,
    port,
    requests,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function jsonReply(value: unknown, status = 200): FakeReply {
  return { status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(value) };
}

export function errorReply(status: number, message: string): FakeReply {
  return jsonReply({ error: message }, status);
}

/** A binary-extension response: JSON header, then the blocks in order. */
export function binaryReply(json: unknown, blocks: Uint8Array[]): FakeReply {
  const header = Buffer.from(JSON.stringify(json));
  return {
    headers: { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(header.length) },
    body: Buffer.concat([header, ...blocks.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength))]),
  };
}

/** Triton BYTES: uint32 LE length then bytes, per element. */
export function bytesTensor(strings: string[]): Buffer {
  return Buffer.concat(
    strings.flatMap((s) => {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      return [len, b];
    }),
  );
}

export interface ParsedInferRequest {
  json: {
    id?: string;
    inputs: { name: string; shape: number[]; datatype: string; parameters?: Record<string, unknown>; data?: unknown[] }[];
    outputs?: { name: string; parameters?: Record<string, unknown> }[];
    parameters?: Record<string, unknown>;
  };
  headerText: string;
  /** Binary blocks by input name. */
  blocks: Map<string, Buffer>;
}

export function parseInferRequest(req: RecordedRequest): ParsedInferRequest {
  const lengthHeader = req.headers['inference-header-content-length'];
  const headerLength = lengthHeader === undefined ? req.body.length : Number(lengthHeader);
  const headerText = req.body.subarray(0, headerLength).toString('utf8');
  const json = JSON.parse(headerText) as ParsedInferRequest['json'];
  const blocks = new Map<string, Buffer>();
  let offset = headerLength;
  for (const input of json.inputs) {
    const size = input.parameters?.binary_data_size;
    if (typeof size !== 'number') continue;
    blocks.set(input.name, req.body.subarray(offset, offset + size));
    offset += size;
  }
  if (offset !== req.body.length) throw new Error(`request has ${req.body.length - offset} extra bytes`);
  return { json, headerText, blocks };
}

export interface FakeClassifierOptions {
  name?: string;
  maxBatchSize: number;
  /** Image dims without batch, e.g. [3, 4, 4]. */
  dims?: number[];
  labels: string[];
  /** Advertise the statistics extension and serve /stats. */
  statistics?: boolean;
  /** Milliseconds each infer takes. */
  delayMs?: number;
}

/**
 * A fake image classifier: FP32 input [3,H,W] (NCHW), one output whose score for class i is the mean
 * of input channel i % 3 plus i / 1000 (so a red image ranks class 0 first, green class 1, blue class 2).
 * It serves index, metadata, config, stats and infer with Triton's classification extension.
 */
export function fakeClassifier(options: FakeClassifierOptions): Handler {
  const name = options.name ?? 'fake';
  const dims = options.dims ?? [3, 4, 4];
  const classes = options.labels.length;
  const batched = options.maxBatchSize > 0;
  const stats = { count: 0, execs: 0, queueNs: 0, inferNs: 0 };
  const base = `/v2/models/${name}`;
  return async (req) => {
    if (req.method === 'POST' && req.url === '/v2/repository/index') {
      return jsonReply([{ name, version: '1', state: 'READY' }]);
    }
    if (req.method === 'GET' && req.url === '/v2') {
      return jsonReply({ name: 'fake', version: '0', extensions: options.statistics ? ['classification', 'statistics'] : ['classification'] });
    }
    if (req.method === 'GET' && req.url === base) {
      return jsonReply({
        name,
        versions: ['1'],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'INPUT_0', datatype: 'FP32', shape: batched ? [-1, ...dims] : dims }],
        outputs: [{ name: 'OUTPUT_0', datatype: 'FP32', shape: batched ? [-1, classes] : [classes] }],
      });
    }
    if (req.method === 'GET' && req.url === `${base}/config`) {
      return jsonReply({
        name,
        max_batch_size: options.maxBatchSize,
        input: [{ name: 'INPUT_0', data_type: 'TYPE_FP32', dims }],
        output: [{ name: 'OUTPUT_0', data_type: 'TYPE_FP32', dims: [classes], label_filename: 'labels.txt' }],
      });
    }
    if (req.method === 'GET' && req.url === `${base}/stats` && options.statistics) {
      const d = (count: number, ns: number) => ({ count, ns });
      return jsonReply({
        model_stats: [
          {
            name,
            version: '1',
            last_inference: 0,
            inference_count: stats.count,
            execution_count: stats.execs,
            inference_stats: {
              success: d(stats.execs, stats.inferNs + stats.queueNs),
              fail: d(0, 0),
              queue: d(stats.execs, stats.queueNs),
              compute_input: d(stats.execs, 0),
              compute_infer: d(stats.execs, stats.inferNs),
              compute_output: d(stats.execs, 0),
              cache_hit: d(0, 0),
              cache_miss: d(0, 0),
            },
          },
        ],
      });
    }
    if (req.method === 'POST' && req.url === `${base}/infer`) {
      const parsed = parseInferRequest(req);
      const input = parsed.json.inputs[0];
      const block = parsed.blocks.get(input.name);
      if (!block) return errorReply(400, 'fake classifier wants binary input');
      const values = new Float32Array(block.buffer.slice(block.byteOffset, block.byteOffset + block.byteLength));
      const n = batched ? input.shape[0] : 1;
      if (batched && n > options.maxBatchSize) {
        return errorReply(400, `inference request batch-size must be <= ${options.maxBatchSize} for '${name}'`);
      }
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      stats.count += n;
      stats.execs += 1;
      stats.queueNs += 1000;
      stats.inferNs += 5000;
      const plane = dims[1] * dims[2];
      const per = values.length / n;
      const scores: number[][] = [];
      for (let b = 0; b < n; b++) {
        const means = [0, 1, 2].map((c) => {
          let s = 0;
          for (let p = 0; p < plane; p++) s += values[b * per + c * plane + p];
          return s / plane;
        });
        scores.push(Array.from({ length: classes }, (_, i) => means[i % 3] + i / 1000));
      }
      const requested = parsed.json.outputs?.[0];
      const k = requested?.parameters?.classification;
      if (typeof k === 'number') {
        const rows = scores.map((row) =>
          row
            .map((v, i) => ({ v, i }))
            .sort((a, b) => b.v - a.v)
            .slice(0, k)
            .map(({ v, i }) => `${v.toFixed(6)}:${i}${options.labels[i] ? `:${options.labels[i]}` : ''}`),
        );
        const kk = Math.min(k, classes);
        const data = bytesTensor(rows.flat());
        return binaryReply(
          {
            model_name: name,
            model_version: '1',
            outputs: [{ name: 'OUTPUT_0', datatype: 'BYTES', shape: batched ? [n, kk] : [kk], parameters: { binary_data_size: data.length } }],
          },
          [data],
        );
      }
      const flat = Float32Array.from(scores.flat());
      const data = new Uint8Array(flat.buffer);
      return binaryReply(
        {
          model_name: name,
          model_version: '1',
          outputs: [{ name: 'OUTPUT_0', datatype: 'FP32', shape: batched ? [n, classes] : [classes], parameters: { binary_data_size: data.length } }],
        },
        [data],
      );
    }
    return errorReply(404, 'Not Found');
  };
}
