import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * One HTTP/1.1 exchange at a time per pooled keep-alive socket, on node:http. Not fetch: undici's fetch
 * copies a request body twice through web streams before it reaches the socket, and for a 600 KB tensor
 * that garbage (collected on the same cores as the server under test) cost `perf` about 8 ms of CPU per
 * request (bench/README.md). Here the body Buffer goes to the socket as it is.
 */

export interface RawResponse {
  readonly status: number;
  /** A response header by lower-case name. */
  header(name: string): string | undefined;
  readonly body: Buffer;
}

/** Why an exchange failed before a whole response arrived; `code` is the socket error's when there is one. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly timedOut: boolean,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export class HttpTransport {
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;

  /** `origin` is a normalized server URL (scheme, host, port and any path prefix). */
  constructor(origin: string, timeoutMs: number) {
    this.#base = new URL(origin);
    this.#timeoutMs = timeoutMs;
    const https = this.#base.protocol === 'https:';
    this.#agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    this.#request = https ? httpsRequest : httpRequest;
  }

  /** Sends one request; the limit runs from connecting to the last body byte, like tritonclient's network_timeout. */
  send(method: string, path: string, body?: string | Uint8Array, headers: Record<string, string> = {}): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false;
      const fail = (e: TransportError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(e);
      };
      const timer = setTimeout(() => fail(new TransportError(`no answer within ${this.#timeoutMs} ms`, undefined, true)), this.#timeoutMs);
      const length = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      const req = this.#request({
        protocol: this.#base.protocol,
        hostname: this.#base.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: this.#base.port,
        path: `${this.#base.pathname.replace(/\/$/, '')}${path}`,
        method,
        agent: this.#agent,
        // Plain bodies, as tritonclient asks: compressing tensors would cost the server CPU (and skew perf).
        headers: { 'accept-encoding': 'identity', 'content-length': String(length), ...headers },
      });
      req.on('error', (e: NodeJS.ErrnoException) => fail(new TransportError(e.message, e.code, false)));
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          received += c.length;
        });
        res.on('error', (e: NodeJS.ErrnoException) => fail(new TransportError(e.message, e.code, false)));
        res.on('aborted', () => fail(new TransportError('the server closed the connection mid-response', 'ECONNRESET', false)));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
          resolve({ status, header: (name) => headerValue(res, name), body: bytes });
        });
      });
      req.end(body);
    });
  }

  /** Closes the pooled sockets; later sends open new ones. */
  close(): void {
    this.#agent.destroy();
  }
}

function headerValue(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}
