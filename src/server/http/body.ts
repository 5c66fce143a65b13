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
   * Where to put a body whose Content-Length is declared, instead of a new Buffer: the result is a
   * view of its first Content-Length bytes. Node's parser never passes more bytes than declared.
   */
  readonly into?: Buffer;
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
    const into = declared !== undefined && options.into !== undefined && options.into.length >= declared ? options.into : undefined;
    const onData = (chunk: Buffer): void => {
      if (into && received + chunk.length <= into.length) chunk.copy(into, received);
      else if (into) {
        fail(options.tooLarge());
        return;
      } else chunks.push(chunk);
      received += chunk.length;
      if (received > options.limit) {
        fail(options.tooLarge());
        return;
      }
      timer.refresh();
    };
    const onEnd = (): void => {
      if (settled) return;
      cleanup();
      const body = into ? into.subarray(0, received) : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received);
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
