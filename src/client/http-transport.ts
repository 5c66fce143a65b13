import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

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
      const length = body === undefined ? undefined : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      let req: ClientRequest;
      try {
        req = this.#request({
          protocol: this.#base.protocol,
          hostname: this.#base.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: this.#base.port,
          path: `${this.#base.pathname.replace(/\/$/, '')}${path}`,
          method,
          agent: this.#agent,
          // Plain bodies, as tritonclient asks: compressing tensors would cost the server CPU (and skew perf).
          headers: { 'accept-encoding': 'identity', ...(length !== undefined ? { 'content-length': String(length) } : {}), ...headers },
        });
      } catch (e) {
        reject(new TransportError((e as Error).message, (e as NodeJS.ErrnoException).code, false));
        return;
      }
      let settled = false;
      let responded = false;
      const fail = (e: TransportError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(e);
      };
      const timer = setTimeout(() => fail(new TransportError(`no answer within ${this.#timeoutMs} ms`, undefined, true)), this.#timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => {
        // Node's "socket hang up": the server closed the connection before any response.
        const closed = e.code === 'ECONNRESET' && !responded && e.message === 'socket hang up';
        fail(closed ? new TransportError('the server closed the connection without answering', undefined, false) : new TransportError(e.message, e.code, false));
      });
      req.on('response', (res: IncomingMessage) => {
        responded = true;
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          received += c.length;
        });
        const cutOff = (): void => fail(new TransportError('the server closed the connection in the middle of its response', undefined, false));
        res.on('error', cutOff);
        res.on('close', () => {
          if (!res.complete) cutOff();
        });
        res.on('end', () => {
          if (settled) return;
          const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
          // Asked for identity; a server that compresses anyway is still understood.
          decoded(bytes, headerValue(res, 'content-encoding')).then(
            (body) => {
              if (settled) return;
              settled = true;
              clearTimeout(timer);
              resolve({ status: res.statusCode ?? 0, header: (name) => headerValue(res, name), body });
            },
            (e: Error) => fail(new TransportError(`the response body could not be decompressed: ${e.message}`, undefined, false)),
          );
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

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);

function decoded(body: Buffer, coding: string | undefined): Promise<Buffer> {
  const c = (coding ?? '').trim().toLowerCase();
  if (c === 'gzip') return gunzip(body);
  if (c === 'deflate') return inflate(body);
  return Promise.resolve(body);
}

function headerValue(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}
