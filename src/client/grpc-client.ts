import * as grpc from '@grpc/grpc-js';
import type { ModelConfig } from '../core/config/model-config.js';
import { decodeMessage, encodeMessage, INFERENCE_SERVICE, rpcTypes, type RpcTypes } from '../protocol/grpc-schema.js';
import {
  buildInferRequest,
  CLIENT_OBJECT_OPTIONS,
  inferResultFromGrpc,
  modelConfigFromGrpc,
  repositoryIndexFromGrpc,
  type GrpcInferRequestOptions,
  type GrpcInferResponseMessage,
} from './grpc-codec.js';
import { grpcFailure } from './grpc-errors.js';
import { normalizeGrpcTarget } from './grpc-target.js';
import type { InferInput } from './infer-input.js';
import type { InferResult } from './infer-result.js';
import type { InferenceStatisticsResponse, ModelMetadata, RepositoryIndexEntry, ServerMetadata } from './v2-types.js';

export interface GrpcClientOptions {
  /** `localhost:8001`, `host:port` or `grpc://host:port`. */
  readonly url: string;
  /** Per-call deadline (default 60 s, as the HTTP client). */
  readonly timeoutMs?: number;
}

/**
 * Typed client of GRPCInferenceService, the equivalent of tritonclient.grpc.InferenceServerClient.
 * One channel carries every call (HTTP/2 multiplexes concurrent callers such as perf); message size
 * limits are lifted as tritonclient lifts them, since image batches pass gRPC's 4 MB default. Answers
 * come back in the HTTP client's shapes (KServe v2 JSON types, InferResult).
 */
export class GrpcInferenceServerClient {
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly client: grpc.Client;
  private readonly rpcs = new Map<string, RpcTypes>();

  constructor(options: GrpcClientOptions) {
    this.url = normalizeGrpcTarget(options.url);
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.client = new grpc.Client(this.url, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
    });
  }

  // ── health ──────────────────────────────────────────────────────────────────────────────────────
  async isServerLive(): Promise<boolean> {
    return (await this.call<{ live: boolean }>('ServerLive', {})).live;
  }

  async isServerReady(): Promise<boolean> {
    return (await this.call<{ ready: boolean }>('ServerReady', {})).ready;
  }

  async isModelReady(model: string, version?: string): Promise<boolean> {
    return (await this.call<{ ready: boolean }>('ModelReady', { name: model, version: version ?? '' })).ready;
  }

  // ── metadata and configuration ──────────────────────────────────────────────────────────────────
  getServerMetadata(): Promise<ServerMetadata> {
    return this.call<ServerMetadata>('ServerMetadata', {});
  }

  getModelMetadata(model: string, version?: string): Promise<ModelMetadata> {
    return this.call<ModelMetadata>('ModelMetadata', { name: model, version: version ?? '' });
  }

  async getModelConfig(model: string, version?: string): Promise<ModelConfig> {
    const response = await this.call<{ config: unknown }>('ModelConfig', { name: model, version: version ?? '' });
    return modelConfigFromGrpc(response.config);
  }

  /** Statistics of one model (version) or, with no model, of every model. */
  getInferenceStatistics(model?: string, version?: string): Promise<InferenceStatisticsResponse> {
    return this.call<InferenceStatisticsResponse>('ModelStatistics', { name: model ?? '', version: version ?? '' });
  }

  // ── model repository extension ──────────────────────────────────────────────────────────────────
  async getModelRepositoryIndex(options: { ready?: boolean } = {}): Promise<RepositoryIndexEntry[]> {
    type Index = { models: { name: string; version: string; state: string; reason: string }[] };
    const response = await this.call<Index>('RepositoryIndex', { repository_name: '', ready: options.ready ?? false });
    return repositoryIndexFromGrpc(response.models);
  }

  // ── inference ───────────────────────────────────────────────────────────────────────────────────
  async infer(model: string, inputs: readonly InferInput[], options: GrpcInferRequestOptions = {}): Promise<InferResult> {
    const response = await this.call<GrpcInferResponseMessage>('ModelInfer', buildInferRequest(model, inputs, options));
    return inferResultFromGrpc(response, this.url);
  }

  /** Serializes the request once and returns a function that sends it (see the HTTP client's prepareInfer). */
  prepareInfer(model: string, inputs: readonly InferInput[], options: GrpcInferRequestOptions = {}): () => Promise<InferResult> {
    const bytes = encodeMessage(this.types('ModelInfer').request, buildInferRequest(model, inputs, options));
    return async () => inferResultFromGrpc(await this.send<GrpcInferResponseMessage>('ModelInfer', bytes), this.url);
  }

  close(): void {
    this.client.close();
  }

  // ── transport ───────────────────────────────────────────────────────────────────────────────────
  private types(rpc: string): RpcTypes {
    let t = this.rpcs.get(rpc);
    if (!t) {
      t = rpcTypes(INFERENCE_SERVICE, rpc);
      this.rpcs.set(rpc, t);
    }
    return t;
  }

  private async call<Res>(rpc: string, request: object): Promise<Res> {
    return this.send<Res>(rpc, encodeMessage(this.types(rpc).request, request));
  }

  /** `bytes` is the serialized request, so a prepared request is sent as it is. */
  private send<Res>(rpc: string, bytes: Buffer): Promise<Res> {
    const t = this.types(rpc);
    return new Promise<Res>((resolve, reject) => {
      this.client.makeUnaryRequest<Buffer, Res>(
        t.path,
        (value) => value,
        (reply) => decodeMessage<Res>(t.response, reply, CLIENT_OBJECT_OPTIONS),
        bytes,
        new grpc.Metadata(),
        { deadline: Date.now() + this.timeoutMs },
        (error, response) => {
          if (error || response === undefined) reject(grpcFailure(error, this.url, this.timeoutMs));
          else resolve(response);
        },
      );
    });
  }
}
