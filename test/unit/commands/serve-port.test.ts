import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { reportError } from '../../../src/cli.js';
import { serve } from '../../../src/commands/serve.js';
import type { OfsError } from '../../../src/errors.js';
import { removeRepoDirs, repoDir } from '../../fixtures/repo.js';

/** A port another process holds: the error names the flag to change, exits 1, and nothing else leaks. */

let blocker: Server;
let taken: number;
let store: string;
beforeAll(async () => {
  store = await repoDir({ 'README.txt': 'an empty model repository' });
  blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
  taken = (blocker.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((resolve) => blocker.close(resolve));
  await removeRepoDirs();
});

const start = (ports: { httpPort?: number; grpcPort?: number; metricsPort?: number }) =>
  serve({ cwd: store, modelStore: '.', address: '127.0.0.1', quiet: true, installSignalHandlers: false, ...ports });

describe('serve on a port already in use', () => {
  const OPTION = { '--http-port': 'httpPort', '--grpc-port': 'grpcPort', '--metrics-port': 'metricsPort' } as const;

  it.each(Object.keys(OPTION) as (keyof typeof OPTION)[])('names %s, exits 1, and leaks no gRPC library line', async (flag) => {
    const ports = { [OPTION[flag]]: taken };
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    let error: OfsError | undefined;
    try {
      const server = await start(ports);
      await server.close();
    } catch (e) {
      error = e as OfsError;
    } finally {
      spy.mockRestore();
    }
    expect(error?.code).toBe('OFS_PORT_IN_USE');
    expect(error?.message).toBe(`cannot listen on 127.0.0.1:${taken} (${flag}): the port is already in use`);
    expect(written.join('')).not.toMatch(/No address added|EADDRINUSE/);
    const silent = { stdout: () => undefined, stderr: () => undefined };
    expect(reportError(error, silent)).toBe(1);
  });
});
