export { InferenceServerClient, type ClientOptions, type InferOptions } from './http-client.js';
export { inferInput, type InferInput, type RequestedOutput } from './infer-input.js';
export { InferResult, decodeInferResponse } from './infer-result.js';
export { encodeInferRequest, type EncodedInferRequest, type InferRequestOptions } from './request-encoder.js';
export { serializeBytes, deserializeBytes, deserializeStrings } from './bytes-codec.js';
export { normalizeServerUrl } from './server-url.js';
export type * from './v2-types.js';
export { modelConfigOrUndefined, maxBatchSizeOf } from './model-info.js';
