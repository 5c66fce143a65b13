/**
 * Protobuf wire bytes written and read by field number (triton-protocol.md §5), independently of our
 * .proto text: if a number in grpc_service.proto were wrong, these bytes would no longer match it.
 */
import protobuf from 'protobufjs';

const LEN = 2;
const VARINT = 0;
const tag = (field: number, wire: number): number => (field << 3) | wire;

/** A ModelInferRequest for model `model` with one FP32 input sent as typed fp32_contents (field 6). */
export function handEncodedInferRequest(options: {
  model: string;
  version: string;
  id: string;
  input: string;
  shape: readonly number[];
  fp32: readonly number[];
  output: string;
  classification?: number;
  boolParameter?: string;
}): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32(tag(1, LEN)).string(options.model); // model_name
  w.uint32(tag(2, LEN)).string(options.version); // model_version
  w.uint32(tag(3, LEN)).string(options.id); // id
  if (options.boolParameter) {
    // parameters = 4: map entry {key = 1, value = 2: InferParameter{bool_param = 1}}
    w.uint32(tag(4, LEN)).fork();
    w.uint32(tag(1, LEN)).string(options.boolParameter);
    w.uint32(tag(2, LEN)).fork().uint32(tag(1, VARINT)).bool(true).ldelim();
    w.ldelim();
  }
  // inputs = 5: InferInputTensor {name = 1, datatype = 2, shape = 3 (packed int64), contents = 5}
  w.uint32(tag(5, LEN)).fork();
  w.uint32(tag(1, LEN)).string(options.input);
  w.uint32(tag(2, LEN)).string('FP32');
  w.uint32(tag(3, LEN)).fork();
  for (const d of options.shape) w.int64(d);
  w.ldelim();
  // contents = 5: InferTensorContents {fp32_contents = 6 (packed float)}
  w.uint32(tag(5, LEN)).fork().uint32(tag(6, LEN)).fork();
  for (const v of options.fp32) w.float(v);
  w.ldelim().ldelim();
  w.ldelim();
  // outputs = 6: InferRequestedOutputTensor {name = 1, parameters = 2}
  w.uint32(tag(6, LEN)).fork();
  w.uint32(tag(1, LEN)).string(options.output);
  if (options.classification !== undefined) {
    w.uint32(tag(2, LEN)).fork();
    w.uint32(tag(1, LEN)).string('classification');
    // InferParameter {int64_param = 2}
    w.uint32(tag(2, LEN)).fork().uint32(tag(2, VARINT)).int64(options.classification).ldelim();
    w.ldelim();
  }
  w.ldelim();
  return w.finish();
}

/** Every length-delimited value of `field` at the top level of a message. */
export function readLengthDelimited(bytes: Uint8Array, field: number): Uint8Array[] {
  const r = protobuf.Reader.create(bytes);
  const found: Uint8Array[] = [];
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === field && (t & 7) === LEN) found.push(r.bytes());
    else r.skipType(t & 7);
  }
  return found;
}

/** The top-level string value of `field`, or undefined. */
export function readString(bytes: Uint8Array, field: number): string | undefined {
  const [value] = readLengthDelimited(bytes, field);
  return value === undefined ? undefined : new TextDecoder().decode(value);
}
