import { ofsError, type OfsError } from '../errors.js';
import type { ModelConfig } from '../core/config/model-config.js';
import type { InferInput, RequestedOutput } from './infer-input.js';
import { decodeInferResponse, type InferResult } from './infer-result.js';
import { HttpTransport, TransportError, type RawResponse } from './http-transport.js';
import { encodeInferRequest, type EncodedInferRequest } from './request-encoder.js';
import { normalizeServerUrl } from './server-url.js';
import { SOCKET_ERRORS } from './socket-errors.js';
import type {
  InferenceStatisticsResponse,
  ModelMetadata,
  Parameters,
  RepositoryIndexEntry,
  ServerMetadata,
} from './v2-types.js';

export interface ClientOptions {
  /** `localhost:8000`, `host:port` or `http://host:port`. */
  readonly url: string;
  /** Per-request limit, connect to last body byte (default 60 s, tritonclient's network_timeout). */
  readonly timeoutMs?: number;
}

export interface InferOptions {
  readonly outputs?: readonly RequestedOutput[];
  readonly version?: string;
  readonly requestId?: string;
  readonly parameters?: Parameters;
}

const HEADER_LENGTH = 'Inference-Header-Content-Length';
const decoder = new TextDecoder('utf-8');

/**
 * Typed KServe v2 HTTP client, the equivalent of tritonclient.http.InferenceServerClient. Connections
 * are kept alive and pooled, so concurrent callers (perf) each get a socket. Any non-200 answer becomes
 * OFS_SERVER_ERROR with the server's `{"error"}` message; connection failures and timeouts become
 * OFS_SERVER_UNREACHABLE.
 */
export class InferenceServerClient {
  readonly url: string;
  private readonly transport: HttpTransport;

  constructor(options: ClientOptions) {
    this.url = normalizeServerUrl(options.url);
    this.transport = new HttpTransport(this.url, options.timeoutMs ?? 60_000);
  }

  /** Closes the pooled sockets (idle ones never keep the process alive). */
  close(): void {
    this.transport.close();
  }

  // ── health (like tritonclient: only the status code matters) ──────────────────────────────────────
  async isServerLive(): Promise<boolean> {
    return (await this.send('GET', '/v2/health/live')).status === 200;
  }

  async isServerReady(): Promise<boolean> {
    return (await this.send('GET', '/v2/health/ready')).status === 200;
  }

  async isModelReady(model: string, version?: string): Promise<boolean> {
    return (await this.send('GET', `${modelPath(model, version)}/ready`)).status === 200;
  }

  // ── metadata and configuration ──────────────────────────────────────────────────────────────────
  getServerMetadata(): Promise<ServerMetadata> {
    return this.json<ServerMetadata>('GET', '/v2');
  }

  getModelMetadata(model: string, version?: string): Promise<ModelMetadata> {
    return this.json<ModelMetadata>('GET', modelPath(model, version));
  }

  getModelConfig(model: string, version?: string): Promise<ModelConfig> {
    return this.json<ModelConfig>('GET', `${modelPath(model, version)}/config`);
  }

  /** Statistics of one model (version) or, with no model, of every model. */
  getInferenceStatistics(model?: string, version?: string): Promise<InferenceStatisticsResponse> {
    const path = model === undefined ? '/v2/models/stats' : `${modelPath(model, version)}/stats`;
    return this.json<InferenceStatisticsResponse>('GET', path);
  }

  // ── model repository extension ──────────────────────────────────────────────────────────────────
  getModelRepositoryIndex(options: { ready?: boolean } = {}): Promise<RepositoryIndexEntry[]> {
    const body = options.ready === undefined ? undefined : JSON.stringify({ ready: options.ready });
    return this.json<RepositoryIndexEntry[]>('POST', '/v2/repository/index', body);
  }

  async loadModel(model: string, options: { config?: string } = {}): Promise<void> {
    const body = options.config === undefined ? undefined : JSON.stringify({ parameters: { config: options.config } });
    this.ensureOk(await this.send('POST', `/v2/repository/models/${encodeURIComponent(model)}/load`, body));
  }

  async unloadModel(model: string, options: { unloadDependents?: boolean } = {}): Promise<void> {
    const body = JSON.stringify({ parameters: { unload_dependents: options.unloadDependents ?? false } });
    this.ensureOk(await this.send('POST', `/v2/repository/models/${encodeURIComponent(model)}/unload`, body));
  }

  // ── inference ───────────────────────────────────────────────────────────────────────────────────
  infer(model: string, inputs: readonly InferInput[], options: InferOptions = {}): Promise<InferResult> {
    return this.sendInfer(model, encodeInferRequest(inputs, options), options.version);
  }

  /**
   * Encodes the request once and returns a function that sends it, as perf_analyzer builds its
   * requests before measuring: the client's own encoding then stays out of the latency it reports.
   */
  prepareInfer(model: string, inputs: readonly InferInput[], options: InferOptions = {}): () => Promise<InferResult> {
    const request = encodeInferRequest(inputs, options);
    return () => this.sendInfer(model, request, options.version);
  }

  private async sendInfer(model: string, request: EncodedInferRequest, version: string | undefined): Promise<InferResult> {
    const headers: Record<string, string> = {};
    if (request.headerLength !== undefined) headers[HEADER_LENGTH] = String(request.headerLength);
    const path = `${modelPath(model, version)}/infer`;
    const res = this.ensureOk(await this.send('POST', path, request.body, headers));
    const lengthHeader = res.header(HEADER_LENGTH.toLowerCase());
    let headerLength: number | undefined;
    if (lengthHeader !== undefined) {
      headerLength = Number(lengthHeader);
      if (!/^\d+$/.test(lengthHeader.trim())) {
        throw ofsError('OFS_BAD_RESPONSE', this.url + path, `${HEADER_LENGTH} is '${lengthHeader}'`);
      }
    }
    return decodeInferResponse(res.body, headerLength, this.url + path);
  }

  // ── transport ───────────────────────────────────────────────────────────────────────────────────
  private async json<T>(method: string, path: string, body?: string): Promise<T> {
    const res = this.ensureOk(await this.send(method, path, body));
    const text = decoder.decode(res.body);
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw ofsError('OFS_BAD_RESPONSE', this.url + path, `the body is not JSON (${(e as Error).message})`);
    }
  }

  private ensureOk(res: RawResponse): RawResponse {
    if (res.status !== 200) throw ofsError('OFS_SERVER_ERROR', res.status, errorMessage(res));
    return res;
  }

  private async send(method: string, path: string, body?: string | Uint8Array, headers: Record<string, string> = {}): Promise<RawResponse> {
    try {
      return await this.transport.send(method, path, body, headers);
    } catch (e) {
      throw this.unreachable(e);
    }
  }

  private unreachable(e: unknown): OfsError {
    return ofsError('OFS_SERVER_UNREACHABLE', this.url, describeTransportFailure(e));
  }
}

function modelPath(model: string, version?: string): string {
  const base = `/v2/models/${encodeURIComponent(model)}`;
  return version === undefined || version === '' ? base : `${base}/versions/${encodeURIComponent(version)}`;
}

/** The server's `{"error": "..."}` message, else the raw body, else the status text. */
function errorMessage(res: RawResponse): string {
  const text = decoder.decode(res.body).trim();
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && typeof (parsed as { error?: unknown }).error === 'string') {
      return (parsed as { error: string }).error;
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return text === '' ? '(empty body)' : text.slice(0, 500);
}

function describeTransportFailure(e: unknown): string {
  if (e instanceof TransportError) return (e.code !== undefined ? SOCKET_ERRORS[e.code] : undefined) ?? e.message;
  return e instanceof Error ? e.message : String(e);
}
