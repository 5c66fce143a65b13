import { describe, expect, it } from 'vitest';
import { buildInferRequest } from '../../../src/client/grpc-codec.js';
import { parametersFromGrpc, parameterToGrpc } from '../../../src/protocol/grpc-parameters.js';
import { grpcFailure } from '../../../src/client/grpc-errors.js';
import { inferInput } from '../../../src/client/infer-input.js';

describe('grpcFailure', () => {
  const fail = (code: number, details: string) => grpcFailure({ code, details }, 'h:8001', 1500);

  it('tells a connection failure from an UNAVAILABLE the server sent', () => {
    const refused = fail(14, 'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: ');
    expect(refused.code).toBe('OFS_SERVER_UNREACHABLE');
    expect(refused.message).toBe('cannot reach the server at h:8001: connection refused');
    expect(fail(14, 'Name resolution failed for target dns:nohost:1: Error: getaddrinfo ENOTFOUND nohost').message).toBe(
      'cannot reach the server at h:8001: host not found',
    );
    expect(fail(14, 'Connection dropped').message).toBe('cannot reach the server at h:8001: Connection dropped');
    // the server's own UNAVAILABLE (model not ready) means it was reached
    const notReady = fail(14, "model 'm' is not ready");
    expect(notReady.code).toBe('OFS_SERVER_ERROR');
    expect(notReady.message).toContain("model 'm' is not ready");
  });

  it('treats a missed deadline as unreachable and other codes as server errors', () => {
    expect(fail(4, 'Deadline exceeded').message).toBe('cannot reach the server at h:8001: no answer within 1500 ms');
    const e = fail(3, "unexpected shape for input 'X'");
    expect(e.code).toBe('OFS_SERVER_ERROR');
    expect(e.message).toBe("server answered 3: unexpected shape for input 'X'");
  });
});

describe('gRPC request parameters', () => {
  it('writes classification as int64_param and every input in raw_input_contents', () => {
    const a = inferInput('A', 'FP32', [2], Float32Array.from([1, 2]));
    const b = inferInput('B', 'INT32', [1], Int32Array.from([7]));
    const r = buildInferRequest('m', [a, b], { outputs: [{ name: 'P', classCount: 2 }, { name: 'Q' }], version: '3' });
    expect(r.model_version).toBe('3');
    expect(r.inputs).toEqual([
      { name: 'A', datatype: 'FP32', shape: [2] },
      { name: 'B', datatype: 'INT32', shape: [1] },
    ]);
    expect(r.raw_input_contents).toEqual([a.data, b.data]);
    expect(r.outputs).toEqual([
      { name: 'P', parameters: { classification: { int64_param: 2 } } },
      { name: 'Q', parameters: {} },
    ]);
  });

  it('maps JSON parameter values onto the InferParameter oneof and back', () => {
    expect(parameterToGrpc(true)).toEqual({ bool_param: true });
    expect(parameterToGrpc(5)).toEqual({ int64_param: 5 });
    expect(parameterToGrpc(0.5)).toEqual({ double_param: 0.5 });
    expect(parameterToGrpc('x')).toEqual({ string_param: 'x' });
    expect(parametersFromGrpc({ a: { bool_param: false }, b: { int64_param: 2 }, c: {} })).toEqual({ a: false, b: 2 });
    expect(parametersFromGrpc({})).toBeUndefined();
  });
});
