import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeInferBody, encodeInferResponse, parseInferenceHeaderLength } from '../../protocol/binary.js';
import { jsonDataToBytes } from '../../protocol/json-tensor.js';
import { HEADER_INFERENCE_LENGTH, HEADER_INFERENCE_LENGTH_OUT } from '../../protocol/v2-types.js';
import type { DataPlane, DataPlaneInferRequest, InferInputData, RequestedOutput } from '../dataplane.js';
import { encodeBody, negotiateEncoding } from './encoding.js';

/**
 * POST /v2/models/{m}[/versions/{v}]/infer: body → DataPlane request, DataPlane response → JSON or
 * binary body. Which outputs travel binary: the output's `binary_data`, else the request's
 * `binary_data_output`, else JSON; everything binary for a raw (header length 0) request.
 */
export async function handleInfer(
  dataplane: DataPlane,
  model: string,
  version: string | undefined,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const receivedNs = process.hrtime.bigint();
  // Unknown model first, as Triton: before anything in the body is looked at.
  dataplane.model(model, version);
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const headerLength = parseInferenceHeaderLength(request.headers[HEADER_INFERENCE_LENGTH], body.length);
  const decoded = decodeInferBody(body, headerLength, model);

  let dpRequest: DataPlaneInferRequest;
  let binaryFor: (index: number) => boolean;
  if (decoded.kind === 'raw') {
    dpRequest = { model, version, inputs: [], rawInput: decoded.data, receivedNs };
    binaryFor = () => true;
  } else {
    const req = decoded.request;
    const inputs: InferInputData[] = req.inputs.map((input, i) => ({
      name: input.name,
      datatype: input.datatype,
      shape: input.shape,
      data: decoded.binary[i] ?? jsonDataToBytes(input.name, input.datatype, input.shape, input.data),
    }));
    const outputs: RequestedOutput[] | undefined = req.outputs?.map((o) => ({
      name: o.name,
      classification: o.parameters?.classification as number | undefined,
    }));
    const defaultBinary = req.parameters?.binary_data_output === true;
    binaryFor = (i) => {
      const own = req.outputs?.[i]?.parameters?.binary_data;
      return typeof own === 'boolean' ? own : defaultBinary;
    };
    dpRequest = { model, version, id: req.id, parameters: req.parameters, inputs, outputs, receivedNs };
  }

  const result = await dataplane.infer(dpRequest);
  const encoded = encodeInferResponse({
    id: result.id,
    model_name: result.model_name,
    model_version: result.model_version,
    outputs: result.outputs.map((tensor, i) => ({ tensor, binary: binaryFor(i) })),
  });

  let payload = encoded.body;
  const coding = negotiateEncoding(request.headers['accept-encoding']);
  if (coding) {
    payload = await encodeBody(payload, coding);
    reply.header('content-encoding', coding);
  }
  reply.code(200).header('content-type', encoded.contentType);
  // Stays the uncompressed JSON length: the client decompresses first, then splits. Set on the raw
  // response because reply.header() lowercases names, and Triton writes this one capitalized.
  if (encoded.headerLength !== undefined) reply.raw.setHeader(HEADER_INFERENCE_LENGTH_OUT, String(encoded.headerLength));
  await reply.send(payload);
}
