import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { INFERENCE_SERVICE, serviceDefinition } from '../../../../src/protocol/grpc-schema.js';
import { DataPlane } from '../../../../src/server/dataplane.js';
import { createGrpcServer, type GrpcServer } from '../../../../src/server/grpc/server.js';
import { grpcServerCredentials, type GrpcTlsOptions } from '../../../../src/server/grpc/tls.js';
import { FakeCatalog, sumModel } from '../../../fixtures/fake-models.js';

/**
 * tritonserver's gRPC TLS flags against a real grpc-js client, with a CA, a server and a client
 * certificate this test makes with the openssl CLI.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'ofserve-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const f = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

// CA → server (CN/SAN localhost, 127.0.0.1) and client certificates, EC keys (fast to make)
openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=ofserve test CA');
for (const who of ['server', 'client']) {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=${who === 'server' ? 'localhost' : 'ofserve client'}`);
  writeFileSync(f(`${who}.ext`), who === 'server' ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' : 'extendedKeyUsage=clientAuth\n');
  openssl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${who}.crt`), '-days', '2', '-extfile', f(`${who}.ext`));
}
const pem = (name: string) => readFileSync(f(name));

const Client = grpc.makeGenericClientConstructor(serviceDefinition(INFERENCE_SERVICE), 'GRPCInferenceService');
let server: GrpcServer | undefined;
let client: grpc.Client | undefined;
afterEach(async () => {
  client?.close();
  await server?.close();
  server = client = undefined;
});

async function serveWith(tls: GrpcTlsOptions): Promise<number> {
  server = createGrpcServer({
    dataplane: new DataPlane({ catalog: new FakeCatalog().add(sumModel()) }),
    credentials: grpcServerCredentials(tls),
    shutdownGraceMs: 200,
  });
  return server.listen('127.0.0.1', 0);
}

function live(port: number, credentials: grpc.ChannelCredentials): Promise<unknown> {
  client = new Client(`localhost:${port}`, credentials);
  const deadline = new Date(Date.now() + 10_000);
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, (r: object, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: unknown, r: unknown) => void) => void>).ServerLive.call(
      client,
      {},
      new grpc.Metadata(),
      { deadline },
      (e, r) => (e ? reject(e) : resolve(r)),
    );
  });
}

describe('--grpc-use-ssl', () => {
  it('serves TLS clients that trust the CA, and nobody in plain text', async () => {
    const port = await serveWith({ useSsl: true, serverCert: f('server.crt'), serverKey: f('server.key') });
    expect(await live(port, grpc.credentials.createSsl(pem('ca.crt')))).toEqual({ live: true });
    client?.close();
    await expect(live(port, grpc.credentials.createInsecure())).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });
});

describe('--grpc-use-ssl-mutual', () => {
  it('serves only clients with a certificate signed by --grpc-root-cert', async () => {
    const port = await serveWith({ mutual: true, serverCert: f('server.crt'), serverKey: f('server.key'), rootCert: f('ca.crt') });
    expect(await live(port, grpc.credentials.createSsl(pem('ca.crt'), pem('client.key'), pem('client.crt')))).toEqual({ live: true });
    client?.close();
    await expect(live(port, grpc.credentials.createSsl(pem('ca.crt')))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });
});

describe('grpcServerCredentials', () => {
  it('is insecure unless asked', () => {
    expect(grpcServerCredentials({})._isSecure()).toBe(false);
    expect(grpcServerCredentials({ useSsl: true, serverCert: f('server.crt'), serverKey: f('server.key') })._isSecure()).toBe(true);
  });

  it('names the missing flag, the unreadable file and the non-PEM file', () => {
    expect(() => grpcServerCredentials({ useSsl: true, serverKey: f('server.key') })).toThrow('--grpc-use-ssl needs --grpc-server-cert FILE');
    expect(() => grpcServerCredentials({ mutual: true, serverCert: f('server.crt'), serverKey: f('server.key') })).toThrow(
      '--grpc-use-ssl-mutual needs --grpc-root-cert FILE',
    );
    expect(() => grpcServerCredentials({ useSsl: true, serverCert: f('nope.crt'), serverKey: f('server.key') })).toThrow(
      /--grpc-server-cert .*nope\.crt: cannot read it \(ENOENT\)/,
    );
    expect(() => grpcServerCredentials({ useSsl: true, serverCert: f('server.ext'), serverKey: f('server.key') })).toThrow(/not a PEM file/);
  });
});
