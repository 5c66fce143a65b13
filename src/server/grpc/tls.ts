import { readFileSync } from 'node:fs';
import { ServerCredentials } from '@grpc/grpc-js';
import { ofsError } from '../../errors.js';

/**
 * tritonserver's gRPC TLS flags as grpc-js server credentials: --grpc-use-ssl with --grpc-server-cert
 * and --grpc-server-key (PEM files); --grpc-use-ssl-mutual also requires and verifies client
 * certificates signed by --grpc-root-cert. Mutual implies TLS, as in Triton.
 */

export interface GrpcTlsOptions {
  readonly useSsl?: boolean;
  readonly mutual?: boolean;
  readonly serverCert?: string;
  readonly serverKey?: string;
  readonly rootCert?: string;
}

function readPem(flag: string, file: string | undefined, why: string): Buffer {
  if (!file) throw ofsError('OFS_BAD_ARGUMENT', `${why} needs ${flag} FILE (a PEM file)`);
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch (e) {
    throw ofsError('OFS_BAD_ARGUMENT', `${flag} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!text.includes('-----BEGIN ')) throw ofsError('OFS_BAD_ARGUMENT', `${flag} ${file}: not a PEM file (no -----BEGIN line)`);
  return text;
}

/** Insecure credentials unless TLS is asked for; throws naming the flag when a file is missing or unreadable. */
export function grpcServerCredentials(tls: GrpcTlsOptions): ServerCredentials {
  if (!tls.useSsl && !tls.mutual) return ServerCredentials.createInsecure();
  const why = tls.mutual ? '--grpc-use-ssl-mutual' : '--grpc-use-ssl';
  const cert = readPem('--grpc-server-cert', tls.serverCert, why);
  const key = readPem('--grpc-server-key', tls.serverKey, why);
  const root = tls.mutual ? readPem('--grpc-root-cert', tls.rootCert, why) : tls.rootCert ? readPem('--grpc-root-cert', tls.rootCert, why) : null;
  try {
    return ServerCredentials.createSsl(root, [{ cert_chain: cert, private_key: key }], Boolean(tls.mutual));
  } catch (e) {
    throw ofsError('OFS_BAD_ARGUMENT', `gRPC TLS: ${(e as Error).message} (check --grpc-server-cert, --grpc-server-key, --grpc-root-cert)`);
  }
}
