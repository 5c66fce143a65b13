import type { Readable } from 'node:stream';

/**
 * Reads a request body into one Buffer, bounded in size and in time: a declared Content-Length over
 * the limit is refused before a byte is read, a body growing past it is dropped at that point, and a
 * client that pauses longer than `idleMs` mid-body gets the `timedOut` error (answered 408). On any
 * failure the chunks read so far are let go at once.
 */

export interface BodyReadOptions {
  readonly limit: number;
  readonly idleMs: number;
  readonly tooLarge: () => Error;
  readonly timedOut: () => Error;
  /**
   * Gives the Buffer (exactly `size` bytes) a body of several chunks is joined into, instead of a new
   * one; undefined falls back to a new one. Asked only once the whole body is in, so memory still
   * grows with the bytes a client really sent, never with the length it declares.
   */
  readonly joinInto?: (size: number) => Buffer | undefined;
}

/** The client went away mid-body: nobody is left to answer, so the message is for the log only. */
export class BodyAbortedError extends Error {
  constructor() {
    super('the client closed the connection before sending the whole body');
    this.name = 'BodyAbortedError';
  }
}

export function readBody(stream: Readable, contentLength: string | undefined, options: BodyReadOptions): Promise<Buffer> {
  const declared = contentLength !== undefined && /^\d+$/.test(contentLength) ? Number(contentLength) : undefined;
  if (declared !== undefined && declared > options.limit) return Promise.reject(options.tooLarge());
  return new Promise<Buffer>((resolve, reject) => {
    let chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const timer = setTimeout(() => fail(options.timedOut()), options.idleMs);
    const cleanup = (): void => {
      settled = true;
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const fail = (e: Error): void => {
      if (settled) return;
      cleanup();
      chunks = [];
      // Stop pulling bytes off the socket; the error response closes the connection.
      stream.pause();
      reject(e);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > options.limit) {
        fail(options.tooLarge());
        return;
      }
      chunks.push(chunk);
      timer.refresh();
    };
    const onEnd = (): void => {
      if (settled) return;
      cleanup();
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : join(chunks, received, options.joinInto?.(received));
      chunks = [];
      resolve(body);
    };
    const onError = (e: Error): void => fail(e);
    const onClose = (): void => fail(new BodyAbortedError());
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

function join(chunks: readonly Buffer[], size: number, target: Buffer | undefined): Buffer {
  if (!target || target.length !== size) return Buffer.concat(chunks, size);
  let at = 0;
  for (const c of chunks) at += c.copy(target, at);
  return target;
}
