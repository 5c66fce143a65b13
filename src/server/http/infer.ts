import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeInferBody, encodeInferResponse, parseInferenceHeaderLength, type EncodedBody } from '../../protocol/binary.js';
import { dataSpanToBytes } from '../../protocol/json-span.js';
import { jsonDataToBytes } from '../../protocol/json-tensor.js';
import { HEADER_INFERENCE_LENGTH, HEADER_INFERENCE_LENGTH_OUT } from '../../protocol/v2-types.js';
import type { DataPlane, DataPlaneInferRequest, InferInputData, RequestedOutput } from '../dataplane.js';
import { encodeBody, negotiateEncoding, type Coding } from './encoding.js';
import type { HttpLimits } from './limits.js';

/**
 * POST /v2/models/{m}[/versions/{v}]/infer: body → DataPlane request, DataPlane response → JSON or
 * binary body. Which outputs travel binary: the output's `binary_data`, else the request's
 * `binary_data_output`, else JSON; everything binary for a raw (header length 0) request.
 */

/** The client hung up before its response was written: a still-queued request is then dropped. */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const res = reply.raw;
  const onClose = () => {
    if (!res.writableFinished) controller.abort();
  };
  res.once('close', onClose);
  return controller.signal;
}

/** Up to this size a body is joined into one Buffer: one write, no stream per response. */
const SINGLE_WRITE_MAX = 256 * 1024;

/** Small bodies go out as one Buffer (with Content-Length); large ones as a stream of their chunks. */
async function payloadOf(encoded: EncodedBody, coding: Coding | undefined): Promise<Buffer | Readable> {
  if (encoded.chunks.length <= 1 || encoded.length <= SINGLE_WRITE_MAX) {
    const body = encoded.chunks.length === 1 ? (encoded.chunks[0] as Buffer) : Buffer.concat(encoded.chunks, encoded.length);
    return coding ? encodeBody(body, coding) : body;
  }
  const stream = Readable.from(encoded.chunks, { objectMode: false });
  if (!coding) return stream;
  const zip = coding === 'gzip' ? zlib.createGzip() : zlib.createDeflate();
  stream.on('error', (e) => zip.destroy(e));
  return stream.pipe(zip);
}

export async function handleInfer(
  dataplane: DataPlane,
  model: string,
  version: string | undefined,
  request: FastifyRequest,
  reply: FastifyReply,
  limits: HttpLimits,
): Promise<void> {
  const receivedNs = process.hrtime.bigint();
  // Unknown model first, as Triton: before anything in the body is looked at.
  dataplane.model(model, version);
  const signal = clientGone(reply);
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const headerLength = parseInferenceHeaderLength(request.headers[HEADER_INFERENCE_LENGTH], body.length);
  const decoded = await decodeInferBody(body, headerLength, model, {
    maxJsonBytes: limits.maxJson,
    maxDepth: limits.maxJsonDepth,
    maxValues: limits.maxJsonValues,
  });

  let dpRequest: DataPlaneInferRequest;
  let binaryFor: (index: number) => boolean;
  if (decoded.kind === 'raw') {
    dpRequest = { model, version, inputs: [], rawInput: decoded.data, receivedNs, signal };
    binaryFor = () => true;
  } else {
    const req = decoded.request;
    const inputs: InferInputData[] = [];
    for (const [i, input] of req.inputs.entries()) {
      const span = decoded.spans[i];
      const data =
        decoded.binary[i] ??
        (span
          ? await dataSpanToBytes(input.name, input.datatype, input.shape, decoded.body, span)
          : jsonDataToBytes(input.name, input.datatype, input.shape, input.data));
      inputs.push({ name: input.name, datatype: input.datatype, shape: input.shape, data });
    }
    const outputs: RequestedOutput[] | undefined = req.outputs?.map((o) => ({
      name: o.name,
      classification: o.parameters?.classification as number | undefined,
    }));
    const defaultBinary = req.parameters?.binary_data_output === true;
    binaryFor = (i) => {
      const own = req.outputs?.[i]?.parameters?.binary_data;
      return typeof own === 'boolean' ? own : defaultBinary;
    };
    dpRequest = { model, version, id: req.id, parameters: req.parameters, inputs, outputs, receivedNs, signal };
  }

  const result = await dataplane.infer(dpRequest);
  const encoded = await encodeInferResponse(
    {
      id: result.id,
      model_name: result.model_name,
      model_version: result.model_version,
      outputs: result.outputs.map((tensor, i) => ({ tensor, binary: binaryFor(i) })),
    },
    { maxBytes: limits.maxResponse },
  );

  const coding = negotiateEncoding(request.headers['accept-encoding']);
  const payload = await payloadOf(encoded, coding);
  if (coding) reply.header('content-encoding', coding);
  else if (!Buffer.isBuffer(payload)) reply.header('content-length', String(encoded.length));
  reply.code(200).header('content-type', encoded.contentType);
  // Stays the uncompressed JSON length: the client decompresses first, then splits. Set on the raw
  // response because reply.header() lowercases names, and Triton writes this one capitalized.
  if (encoded.headerLength !== undefined) reply.raw.setHeader(HEADER_INFERENCE_LENGTH_OUT, String(encoded.headerLength));
  await reply.send(payload);
}
