import { describe, expect, it } from 'vitest';
import { GrpcInferenceServerClient } from '../../../src/client/grpc-client.js';
import { normalizeGrpcTarget } from '../../../src/client/grpc-target.js';
import { InferenceServerClient } from '../../../src/client/http-client.js';
import { createInferenceClient, parseProtocol } from '../../../src/client/inference-client.js';

describe('createInferenceClient', () => {
  it("defaults to Triton's ports: HTTP 8000, gRPC 8001", () => {
    const http = createInferenceClient('http');
    expect(http).toBeInstanceOf(InferenceServerClient);
    expect(http.url).toBe('http://localhost:8000');
    http.close();
    const grpc = createInferenceClient('grpc');
    expect(grpc).toBeInstanceOf(GrpcInferenceServerClient);
    expect(grpc.url).toBe('localhost:8001');
    grpc.close();
    const given = createInferenceClient('grpc', { url: 'example.org:9001' });
    expect(given.url).toBe('example.org:9001');
    given.close();
  });

  it('reads -i as perf_analyzer does, in any case', () => {
    expect(parseProtocol(undefined)).toBe('http');
    expect(parseProtocol('GRPC')).toBe('grpc');
    expect(() => parseProtocol('tcp')).toThrow(expect.objectContaining({ code: 'OFS_BAD_ARGUMENT' }));
  });
});

describe('normalizeGrpcTarget', () => {
  it('takes host:port with or without grpc:// or http://', () => {
    expect(normalizeGrpcTarget(' localhost:8001 ')).toBe('localhost:8001');
    expect(normalizeGrpcTarget('http://10.0.0.2:8001')).toBe('10.0.0.2:8001');
    expect(normalizeGrpcTarget('[::1]:8001')).toBe('[::1]:8001');
  });

  it('refuses addresses grpc-js could not dial as meant', () => {
    for (const bad of ['', 'localhost', 'host:port', 'unix:///tmp/s', 'localhost:8001/v2', 'https://h:1']) {
      expect(() => normalizeGrpcTarget(bad), bad).toThrow(expect.objectContaining({ code: 'OFS_BAD_ARGUMENT' }));
    }
  });
});
