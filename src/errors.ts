/**
 * Every error ofserve can report, declared once: a code, a kind (which decides the HTTP status and gRPC
 * code through one table per protocol), a message built from arguments, and a fix for the user.
 *
 * Messages that Triton clients match on (unknown model, binary size errors, …) repeat Triton's wording
 * exactly; docs/triton-protocol.md has the originals.
 */

export type ErrorKind =
  | 'INVALID_ARG'
  | 'NOT_FOUND'
  | 'UNAVAILABLE'
  | 'UNSUPPORTED'
  | 'INTERNAL'
  | 'ALREADY_EXISTS'
  /** The client gave up (closed connection, cancelled call) before the request ran. */
  | 'CANCELLED';

export interface ErrorSpec<A extends unknown[]> {
  readonly kind: ErrorKind;
  readonly message: (...args: A) => string;
  /** What the user should do about it; printed by the CLI under the message. */
  readonly fix?: string;
}

function def<A extends unknown[]>(kind: ErrorKind, message: (...args: A) => string, fix?: string): ErrorSpec<A> {
  return { kind, message, fix };
}

export const ERRORS = {
  // ── usage ──────────────────────────────────────────────────────────────────────────────────────────
  OFS_BAD_ARGUMENT: def('INVALID_ARG', (what: string) => what, 'run the command with --help to see the accepted flags'),
  OFS_FILE_NOT_FOUND: def('NOT_FOUND', (path: string, what: string) => `${what} not found: ${path}`, 'check the path'),
  OFS_WRITE_FAILED: def(
    'INVALID_ARG',
    (path: string, why: string) => `cannot write ${path}: ${why}`,
    'check that the folder is writable, that no file sits where a folder is needed, and that the disk has space',
  ),
  OFS_FILE_EXISTS: def(
    'ALREADY_EXISTS',
    (path: string) => `refusing to overwrite existing file ${path}`,
    'pass --force to overwrite, or choose another output folder',
  ),

  // ── model configuration (config.pbtxt) ──────────────────────────────────────────────────────────────
  OFS_CONFIG_SYNTAX: def(
    'INVALID_ARG',
    (file: string, line: number, column: number, what: string) => `${file}:${line}:${column}: ${what}`,
    'config.pbtxt is protobuf text format of Triton ModelConfig; fix the text at that position',
  ),
  OFS_CONFIG_INVALID: def(
    'INVALID_ARG',
    (file: string, problems: string) => `invalid model configuration ${file}:\n${problems}`,
    'run `ofserve validate` for every problem with its fix',
  ),
  OFS_CONFIG_MISSING: def(
    'INVALID_ARG',
    (model: string) => `model configuration is not provided for model '${model}'`,
    'write a config.pbtxt next to the version folders (`ofserve init` scaffolds one)',
  ),

  // ── repository ─────────────────────────────────────────────────────────────────────────────────────
  OFS_REPOSITORY_NOT_FOUND: def(
    'NOT_FOUND',
    (dir: string) => `model repository not found: ${dir}`,
    'pass --model-store DIR pointing at a folder of model folders (`ofserve init --example` writes one)',
  ),
  OFS_NO_VERSIONS: def(
    'INVALID_ARG',
    (model: string) => `at least one version must be available under the version policy of model '${model}'`,
    'add a numeric version folder such as 1/ holding the model payload',
  ),
  OFS_PATH_ESCAPES: def(
    'INVALID_ARG',
    (path: string) => `${path} is outside model directory`,
    'use a path relative to the model folder that stays inside it',
  ),
  OFS_LINK_OUTSIDE_STORE: def(
    'INVALID_ARG',
    (file: string, target: string) => `${file} is a link to ${target}, which is outside the model store`,
    'copy the files into the model store, or start with --allow-symlinks-outside-store to follow such links (Triton follows them)',
  ),

  // ── models and graphs ──────────────────────────────────────────────────────────────────────────────
  OFS_MODEL_FORMAT: def(
    'INVALID_ARG',
    (file: string, what: string) => `cannot read model ${file}: ${what}`,
    'check that the file is a complete ONNX model or a folder written by flow.save(graph, dir)',
  ),
  OFS_MLIR_SYNTAX: def(
    'INVALID_ARG',
    (file: string, line: number, column: number, what: string) => `${file}:${line}:${column}: ${what}`,
    'model.mlir must be the file OneFlow wrote with flow.save(graph, dir); re-save it if it was edited',
  ),
  OFS_UNSUPPORTED_OP: def(
    'UNSUPPORTED',
    (op: string, opName: string, where: string) => `unsupported operator '${op}' (op_name '${opName}') at ${where}`,
    'ofserve runs CNN classifier ops (conv, normalization, pooling, matmul, …); export the model to ONNX instead',
  ),
  OFS_VARIABLE_INVALID: def(
    'INVALID_ARG',
    (path: string, what: string) => `variable ${path}: ${what}`,
    're-save the model with flow.save(graph, dir) so every variable folder holds a matching meta and out',
  ),
  OFS_RUNTIME_STATE_DICT: def(
    'UNSUPPORTED',
    (path: string) =>
      `${path} is a pickled runtime_state_dict (OneFlow-Serving's Python backend format), not a graph saved with flow.save(graph, dir)`,
    're-save it from Python: build the nn.Graph, run it once, then flow.save(graph, "1/model")',
  ),
  OFS_ONEFLOW_STATE_DICT: def(
    'UNSUPPORTED',
    (path: string) => `${path} holds tensors saved with flow.save(state_dict): weights without a graph`,
    'wrap the module in an nn.Graph, run it once, then flow.save(graph, "1/model") to write model.mlir with the weights',
  ),
  OFS_ONEFLOW_MODEL_MISSING: def(
    'NOT_FOUND',
    (dir: string) => `cannot find the model folder ${dir}`,
    'a oneflow model version folder must hold model/ as written by flow.save(graph, "<version>/model"): model.mlir plus one folder per variable',
  ),
  OFS_ONEFLOW_MLIR_MISSING: def(
    'INVALID_ARG',
    (dir: string) => `${dir} has no model.mlir, so it holds no graph to run`,
    'save the compiled nn.Graph with flow.save(graph, "<version>/model") after running it once',
  ),
  OFS_GRAPH_INVALID: def('INVALID_ARG', (what: string) => `invalid graph: ${what}`, 'check the model file'),

  // ── inference (wording follows Triton where clients depend on it) ─────────────────────────────────
  OFS_MODEL_UNKNOWN: def(
    'NOT_FOUND',
    (model: string, available?: string) => `Request for unknown model: '${model}' is not found${available ? `; ${available}` : ''}`,
    'list the models with GET /v2/repository/index, or check --model-store',
  ),
  OFS_MODEL_NO_VERSIONS: def(
    'NOT_FOUND',
    (model: string) => `Request for unknown model: '${model}' has no available versions`,
    'check the server log for why the model failed to load',
  ),
  OFS_MODEL_VERSION_UNKNOWN: def(
    'NOT_FOUND',
    (model: string, version: string) => `Request for unknown model: '${model}' version ${version} is not found`,
    'ask for a version listed by GET /v2/models/{model}',
  ),
  OFS_MODEL_NOT_READY: def('UNAVAILABLE', (model: string) => `model '${model}' is not ready`, 'wait until it has loaded'),
  OFS_INFER_INPUT: def('INVALID_ARG', (what: string) => what, 'send inputs that match GET /v2/models/{model}'),
  OFS_INFER_BINARY_SIZE: def(
    'INVALID_ARG',
    (input: string, bytes: number, model: string) =>
      `unexpected size for input '${input}', expecting ${bytes} additional bytes for model '${model}'`,
    'binary_data_size must equal the number of bytes that follow the JSON for that input',
  ),
  OFS_INFER_EXTRA_DATA: def(
    'INVALID_ARG',
    (model: string) => `unexpected additional input data for model '${model}'`,
    'Inference-Header-Content-Length must be the JSON length and the binary sizes must add up to the rest',
  ),
  OFS_INFER_JSON: def(
    'INVALID_ARG',
    (what: string) => `failed to parse the request JSON buffer: ${what}`,
    'send a JSON body, or set Inference-Header-Content-Length to the JSON length when binary data follows',
  ),
  OFS_CLASSIFICATION_TYPE: def(
    'INVALID_ARG',
    (datatype: string) => `class result not available for output due to unsupported type '${datatype}'`,
    'request classification only on numeric outputs',
  ),
  OFS_BODY_TOO_LARGE: def(
    'INVALID_ARG',
    (limit: number) => `request body is larger than the server limit of ${limit} bytes`,
    'send smaller batches, or start the server with a larger --http-max-body',
  ),
  OFS_GRPC_MALFORMED: def(
    'INVALID_ARG',
    (type: string, problem: string) => `malformed ${type} message: ${problem}`,
    'the client sent bytes that are not a valid protobuf encoding of the request; build it with stubs generated from grpc_service.proto',
  ),
  OFS_TENSOR_DATA: def(
    'INVALID_ARG',
    (what: string) => what,
    'give tensor data as a typed array of the datatype (Float32Array for FP32, BigInt64Array for INT64, …) or strings for BYTES, with as many elements as the shape',
  ),
  OFS_REQUEST_TOO_LARGE: def(
    'INVALID_ARG',
    (what: string, limit: string, flag: string) => `${what} is over the server limit of ${limit} (${flag})`,
    'send tensor data as binary (binary_data_size) rather than JSON, send less per request, or start the server with a larger value of the flag named in the message',
  ),
  OFS_HTTP_BODY_TIMEOUT: def(
    'INVALID_ARG',
    (what: string, flag: string) => `${what} (${flag}); the connection is closed`,
    'send the whole body without pausing, or start the server with a larger value of the flag named in the message',
  ),
  OFS_RESPONSE_TOO_LARGE: def(
    'INVALID_ARG',
    (output: string, size: string, limit: number) =>
      `output '${output}' (${size}) makes the response larger than the server limit of ${limit} bytes (--http-max-response-body)`,
    'ask for the output as binary data (binary_data_output or binary_data), for fewer outputs or a smaller batch, or start the server with a larger --http-max-response-body',
  ),
  OFS_INFER_OUTPUT: def('INVALID_ARG', (what: string) => what, 'request outputs listed by GET /v2/models/{model}'),
  OFS_INFER_PARAMETER: def(
    'INVALID_ARG',
    (name: string, got: string) => `parameter '${name}' must be an unsigned integer, got ${got}`,
    "send 'priority' as a level number (1 = highest) and 'timeout' in microseconds, both as integers",
  ),
  OFS_INFER_HEADER_LENGTH: def(
    'INVALID_ARG',
    (got: string, contentLength: number) =>
      `inference header size should be in range (0, ${contentLength}), got: ${got}`,
    'Inference-Header-Content-Length must be the byte length of the JSON part of the body',
  ),
  OFS_CLASSIFICATION_TOO_LARGE: def(
    'INVALID_ARG',
    () => 'classification output tensor too large',
    'request classification on outputs of at most 1,000,000 elements',
  ),
  OFS_PROTOCOL_UNSUPPORTED: def(
    'UNSUPPORTED',
    (what: string) => what,
    'ofserve implements the extensions listed by GET /v2; send the request without that feature',
  ),
  OFS_BACKEND_FAILED: def('INTERNAL', (what: string) => `inference failed: ${what}`, 'check the server log'),
  OFS_SESSION_CREATE_FAILED: def(
    'INVALID_ARG',
    (model: string, version: string, backend: string, why: string) =>
      `backend '${backend}' cannot load model '${model}' version ${version}: ${why}`,
    'check that the model opens in onnxruntime (default-domain ops, opset 7 to 21), or re-export it',
  ),
  OFS_SERVER_SHUTTING_DOWN: def('UNAVAILABLE', () => 'server is shutting down', 'retry against a running server'),
  OFS_REQUEST_CANCELLED: def(
    'CANCELLED',
    () => 'request was cancelled while queued: the client closed the connection or cancelled the call',
    'keep the connection open until the response arrives, or raise the client timeout',
  ),
  OFS_QUEUE_FULL: def(
    'UNAVAILABLE',
    () => 'Exceeds maximum queue size',
    "retry later, or raise the model's dynamic_batching max_queue_size",
  ),
  OFS_REQUEST_TIMEOUT: def(
    'UNAVAILABLE',
    () => 'Request timeout expired',
    "retry later, or raise the request's timeout / the model's default_timeout_microseconds",
  ),
  OFS_MODEL_LOAD_FAILED: def(
    'INVALID_ARG',
    (model: string, why: string) => `failed to load '${model}': ${why}`,
    'run `ofserve validate` on the model store for every problem with its fix',
  ),
  OFS_WARMUP_FAILED: def(
    'INVALID_ARG',
    (sample: string, why: string) => `${sample} failed: ${why}`,
    'fix the model_warmup entry in config.pbtxt (data_type, dims, batch_size, input_data_file under warmup/)',
  ),
  OFS_NOT_ALLOWED: def('UNAVAILABLE', (what: string) => what, 'start the server with --model-control-mode explicit'),

  // ── backends ───────────────────────────────────────────────────────────────────────────────────────
  OFS_BACKEND_UNKNOWN: def(
    'INVALID_ARG',
    (backend: string) => `unknown backend '${backend}'`,
    'use backend: "oneflow" for a model/ folder, backend: "onnxruntime" for model.onnx, or backend: "image_preprocess" to decode images',
  ),
  OFS_NO_BACKEND: def(
    'UNAVAILABLE',
    (device: string, why: string) => `no backend can run models on ${device}: ${why}`,
    'use an instance_group kind this machine supports (KIND_CPU runs everywhere)',
  ),
  OFS_NO_GPU: def(
    'UNAVAILABLE',
    (model: string, why: string) => `model '${model}' asks for KIND_GPU but no usable GPU was found: ${why}`,
    'use instance_group kind KIND_CPU, or run without --strict to fall back to CPU',
  ),
  OFS_NATIVE_UNSUPPORTED: def(
    'UNSUPPORTED',
    (what: string) => `the native GPU backend cannot run this model: ${what}`,
    'serve it with instance_group kind KIND_CPU (onnxruntime runs any ONNX model); the GPU backend runs ResNet-style CNNs: Conv, BatchNormalization, MaxPool, AveragePool, GlobalAveragePool, Add, Relu, Gemm, MatMul, Flatten, Softmax',
  ),

  // ── client and CLI ─────────────────────────────────────────────────────────────────────────────────
  OFS_PORT_IN_USE: def(
    'INVALID_ARG',
    (host: string, port: number, flag: string) => `cannot listen on ${host}:${port} (${flag}): the port is already in use`,
    'stop the process holding that port, or pass another port to the flag named (0 picks a free one)',
  ),
  OFS_SERVER_UNREACHABLE: def(
    'UNAVAILABLE',
    (url: string, why: string) => `cannot reach the server at ${url}: ${why}`,
    'start it with `ofserve serve --model-store DIR`, or pass --url',
  ),
  OFS_SERVER_ERROR: def('INTERNAL', (status: number, message: string) => `server answered ${status}: ${message}`),
  OFS_BAD_RESPONSE: def(
    'INTERNAL',
    (url: string, what: string) => `unexpected response from ${url}: ${what}`,
    'check that --url points at a KServe v2 (Triton-compatible) HTTP endpoint',
  ),
  OFS_NOT_IMAGE_MODEL: def(
    'INVALID_ARG',
    (model: string, what: string) => `model '${model}' does not take an image: ${what}`,
    'classify needs one FP32 input shaped [3,H,W] (NCHW) or [H,W,3] (NHWC); use --model to pick another',
  ),
  OFS_MODEL_CHOICE: def(
    'INVALID_ARG',
    (url: string, what: string) => `cannot tell which model to classify with at ${url}: ${what}`,
    'pass -m NAME with one of the models listed',
  ),
  OFS_OUTPUT_CHOICE: def(
    'INVALID_ARG',
    (model: string, what: string, outputs: string) => `model '${model}': ${what}; its outputs are ${outputs}`,
    'pass --output NAME with the output that holds the class scores',
  ),
  OFS_IMAGE_TOO_LARGE: def(
    'INVALID_ARG',
    (path: string, width: number, height: number, limit: number) =>
      `image ${path} is ${width}x${height} = ${width * height} pixels, more than the limit of ${limit} pixels`,
    'raise the limit with `ofserve classify --max-image-pixels N` (0 for no limit), or shrink the image',
  ),
  OFS_IMAGE_UNREADABLE: def(
    'INVALID_ARG',
    (path: string, why: string) => `cannot read image ${path}: ${why}`,
    'pass a JPEG, PNG, WebP, GIF, TIFF or AVIF file',
  ),
  OFS_INFER_IMAGE: def(
    'INVALID_ARG',
    (input: string, index: number, model: string, why: string) =>
      `element ${index} of input '${input}' for model '${model}' is not an image ofserve can decode: ${why}`,
    'send the bytes of a JPEG, PNG or WebP file, one file per BYTES element',
  ),
  OFS_INTERNAL: def('INTERNAL', (what: string) => what),
} as const;

export type ErrorCode = keyof typeof ERRORS;
type ArgsOf<C extends ErrorCode> = (typeof ERRORS)[C] extends ErrorSpec<infer A> ? A : never;

export class OfsError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly fix: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OfsError';
    this.code = code;
    this.kind = ERRORS[code].kind;
    this.fix = ERRORS[code].fix;
  }
}

/** Builds the error `code` with its message arguments: `throw ofsError('OFS_MODEL_UNKNOWN', name)`. */
export function ofsError<C extends ErrorCode>(code: C, ...args: ArgsOf<C>): OfsError {
  const spec = ERRORS[code] as unknown as ErrorSpec<ArgsOf<C>>;
  return new OfsError(code, spec.message(...args));
}

export function isOfsError(e: unknown): e is OfsError {
  return e instanceof OfsError;
}

/** Wraps anything thrown into an OfsError, keeping OfsErrors as they are. */
export function toOfsError(e: unknown, code: ErrorCode = 'OFS_INTERNAL'): OfsError {
  if (e instanceof OfsError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new OfsError(code, message, { cause: e });
}
