import { ofsError } from '../errors.js';
import type { ModelConfig } from '../core/config/model-config.js';
import { GrpcInferenceServerClient } from './grpc-client.js';
import { InferenceServerClient, type ClientOptions, type InferOptions } from './http-client.js';
import type { InferInput } from './infer-input.js';
import type { InferResult } from './infer-result.js';
import type { InferenceStatisticsResponse, ModelMetadata, RepositoryIndexEntry, ServerMetadata } from './v2-types.js';

/**
 * What commands need from a server, whichever protocol carries it: the HTTP and gRPC clients both
 * answer with the same KServe v2 shapes and the same InferResult.
 */
export interface InferenceClient {
  /** Where the client connects, as it reports it (http://host:port or host:port). */
  readonly url: string;
  isServerLive(): Promise<boolean>;
  isServerReady(): Promise<boolean>;
  isModelReady(model: string, version?: string): Promise<boolean>;
  getServerMetadata(): Promise<ServerMetadata>;
  getModelMetadata(model: string, version?: string): Promise<ModelMetadata>;
  getModelConfig(model: string, version?: string): Promise<ModelConfig>;
  getInferenceStatistics(model?: string, version?: string): Promise<InferenceStatisticsResponse>;
  getModelRepositoryIndex(options?: { ready?: boolean }): Promise<RepositoryIndexEntry[]>;
  infer(model: string, inputs: readonly InferInput[], options?: InferOptions): Promise<InferResult>;
  /** The request encoded once, sent by each call of the returned function (perf's load loop). */
  prepareInfer(model: string, inputs: readonly InferInput[], options?: InferOptions): () => Promise<InferResult>;
  /** Releases connections; the client is unusable afterwards. */
  close(): void;
}

export type ClientProtocol = 'http' | 'grpc';

/** Triton's ports: HTTP 8000, gRPC 8001. */
export const DEFAULT_URLS: Readonly<Record<ClientProtocol, string>> = {
  http: 'localhost:8000',
  grpc: 'localhost:8001',
};

/** `-i http|grpc` as perf_analyzer spells it (any case). */
export function parseProtocol(text: string | undefined): ClientProtocol {
  const p = (text ?? 'http').toLowerCase();
  if (p === 'http' || p === 'grpc') return p;
  throw ofsError('OFS_BAD_ARGUMENT', `unknown protocol '${text}' (use -i http or -i grpc)`);
}

/** A client for `protocol`, at `url` or the protocol's default port on localhost. */
export function createInferenceClient(protocol: ClientProtocol, options: Partial<ClientOptions> = {}): InferenceClient {
  const url = options.url ?? DEFAULT_URLS[protocol];
  if (protocol === 'grpc') return new GrpcInferenceServerClient({ url, timeoutMs: options.timeoutMs });
  return new InferenceServerClient({ url, timeoutMs: options.timeoutMs });
}
