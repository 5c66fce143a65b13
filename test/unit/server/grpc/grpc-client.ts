/**
 * A real @grpc/grpc-js client for the server tests: generic clients built from the same schema, with
 * promise wrappers, plus a raw client that sends and receives bytes as they are on the wire.
 */
import * as grpc from '@grpc/grpc-js';
import { HEALTH_SERVICE, INFERENCE_SERVICE } from '../../../../src/protocol/grpc-schema.js';
import { serviceDefinition } from '../../../../src/protocol/grpc-schema.js';

/** As tritonclient.grpc: message limits raised to INT32_MAX. */
export const CLIENT_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 2 ** 31 - 1,
  'grpc.max_send_message_length': 2 ** 31 - 1,
};

const InferenceClient = grpc.makeGenericClientConstructor(serviceDefinition(INFERENCE_SERVICE), 'GRPCInferenceService');
const HealthClient = grpc.makeGenericClientConstructor(serviceDefinition(HEALTH_SERVICE), 'Health');

type UnaryMethod = (request: object, callback: (error: grpc.ServiceError | null, response: unknown) => void) => void;

export interface TestClient {
  call<T = Record<string, unknown>>(rpc: string, request?: object): Promise<T>;
  stream(): grpc.ClientDuplexStream<object, Record<string, unknown>>;
  health(service?: string): Promise<{ status: string }>;
  /** Sends `bytes` as the request of `rpc` and resolves with the response bytes, undecoded. */
  raw(rpc: string, bytes: Uint8Array): Promise<Buffer>;
  /** A unary call the test can cancel while it is in flight. */
  cancellable<T = Record<string, unknown>>(rpc: string, request: object): { result: Promise<T>; cancel(): void };
  /** ModelStreamInfer with messages written and read as bytes. */
  rawStream(): grpc.ClientDuplexStream<Buffer, Buffer>;
  close(): void;
}

export function connect(port: number, options: grpc.ChannelOptions = {}): TestClient {
  const address = `127.0.0.1:${port}`;
  const channelOptions = { ...CLIENT_OPTIONS, ...options };
  const inference = new InferenceClient(address, grpc.credentials.createInsecure(), channelOptions);
  const health = new HealthClient(address, grpc.credentials.createInsecure(), channelOptions);
  const unary = (client: grpc.Client, rpc: string, request: object) =>
    new Promise<unknown>((resolve, reject) => {
      const method = (client as unknown as Record<string, UnaryMethod>)[rpc].bind(client);
      method(request, (error, response) => (error ? reject(error) : resolve(response)));
    });
  return {
    call: <T>(rpc: string, request: object = {}) => unary(inference, rpc, request) as Promise<T>,
    stream: () => (inference as unknown as { ModelStreamInfer(): grpc.ClientDuplexStream<object, Record<string, unknown>> }).ModelStreamInfer(),
    health: (service = '') => unary(health, 'Check', { service }) as Promise<{ status: string }>,
    raw: (rpc: string, bytes: Uint8Array) =>
      new Promise<Buffer>((resolve, reject) => {
        const identity = (b: Buffer) => b;
        inference.makeUnaryRequest<Buffer, Buffer>(
          `/${INFERENCE_SERVICE}/${rpc}`,
          identity,
          identity,
          Buffer.from(bytes),
          (error, response) => (error || !response ? reject(error) : resolve(response)),
        );
      }),
    cancellable: <T>(rpc: string, request: object) => {
      let call: grpc.ClientUnaryCall | undefined;
      const result = new Promise<T>((resolve, reject) => {
        const method = (inference as unknown as Record<string, (r: object, cb: (e: grpc.ServiceError | null, v: unknown) => void) => grpc.ClientUnaryCall>)[rpc].bind(inference);
        call = method(request, (error, response) => (error ? reject(error) : resolve(response as T)));
      });
      return { result, cancel: () => call?.cancel() };
    },
    rawStream: () =>
      inference.makeBidiStreamRequest<Buffer, Buffer>(`/${INFERENCE_SERVICE}/ModelStreamInfer`, (b) => b, (b) => b),
    close: () => {
      inference.close();
      health.close();
    },
  };
}

/** The gRPC status of a rejected call. */
export async function statusOf(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as grpc.ServiceError;
    return { code: err.code, details: err.details };
  }
  throw new Error('expected the call to fail');
}
