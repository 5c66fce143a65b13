import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GRPC_HEALTH_PROTO, GRPC_SERVICE_PROTO } from '../../../../src/protocol/grpc-service-proto.js';
import { grpcRoot, INFERENCE_SERVICE } from '../../../../src/protocol/grpc-schema.js';
import { decodeMessage, encodeMessage, serviceDefinition } from '../../../../src/protocol/grpc-schema.js';
import type { GrpcModelInferRequest } from '../../../../src/server/grpc/messages.js';
import { handEncodedInferRequest, readLengthDelimited, readString } from './wire.js';

const protoFile = (name: string) => new URL(`../../../../proto/${name}`, import.meta.url);

function fieldIds(typeName: string): Record<string, number> {
  const t = grpcRoot.lookupType(typeName);
  return Object.fromEntries(t.fieldsArray.map((f) => [f.name, f.id]));
}

describe('grpc_service.proto', () => {
  it('is read from proto/', () => {
    expect(GRPC_SERVICE_PROTO).toBe(readFileSync(protoFile('grpc_service.proto'), 'utf8'));
    expect(GRPC_HEALTH_PROTO).toBe(readFileSync(protoFile('grpc_health.proto'), 'utf8'));
  });

  // Numbers from triton-protocol.md §5.
  it('uses Triton field numbers', () => {
    expect(fieldIds('inference.ModelInferRequest')).toEqual({
      model_name: 1, model_version: 2, id: 3, parameters: 4, inputs: 5, outputs: 6, raw_input_contents: 7,
    });
    expect(fieldIds('inference.ModelInferRequest.InferInputTensor')).toEqual({ name: 1, datatype: 2, shape: 3, parameters: 4, contents: 5 });
    expect(fieldIds('inference.ModelInferRequest.InferRequestedOutputTensor')).toEqual({ name: 1, parameters: 2 });
    expect(fieldIds('inference.ModelInferResponse')).toEqual({
      model_name: 1, model_version: 2, id: 3, parameters: 4, outputs: 5, raw_output_contents: 6,
    });
    expect(fieldIds('inference.InferParameter')).toEqual({ bool_param: 1, int64_param: 2, string_param: 3, double_param: 4, uint64_param: 5 });
    expect(fieldIds('inference.InferTensorContents')).toEqual({
      bool_contents: 1, int_contents: 2, int64_contents: 3, uint_contents: 4, uint64_contents: 5, fp32_contents: 6, fp64_contents: 7, bytes_contents: 8,
    });
    expect(fieldIds('inference.ModelStreamInferResponse')).toEqual({ error_message: 1, infer_response: 2 });
    expect(fieldIds('inference.ModelMetadataResponse')).toEqual({ name: 1, versions: 2, platform: 3, inputs: 4, outputs: 5 });
    expect(fieldIds('inference.ModelMetadataResponse.TensorMetadata')).toEqual({ name: 1, datatype: 2, shape: 3 });
    expect(fieldIds('inference.ServerMetadataResponse')).toEqual({ name: 1, version: 2, extensions: 3 });
    expect(fieldIds('inference.ModelReadyRequest')).toEqual({ name: 1, version: 2 });
    expect(fieldIds('inference.ModelConfigResponse')).toEqual({ config: 1 });
    expect(fieldIds('inference.ModelStatistics')).toEqual({
      name: 1, version: 2, last_inference: 3, inference_count: 4, execution_count: 5, inference_stats: 6, batch_stats: 7, memory_usage: 8, response_stats: 9,
    });
    expect(fieldIds('inference.InferStatistics')).toEqual({
      success: 1, fail: 2, queue: 3, compute_input: 4, compute_infer: 5, compute_output: 6, cache_hit: 7, cache_miss: 8,
    });
    expect(fieldIds('inference.StatisticDuration')).toEqual({ count: 1, ns: 2 });
    expect(fieldIds('inference.InferBatchStatistics')).toEqual({ batch_size: 1, compute_input: 2, compute_infer: 3, compute_output: 4 });
    expect(fieldIds('inference.RepositoryIndexRequest')).toEqual({ repository_name: 1, ready: 2 });
    expect(fieldIds('inference.RepositoryIndexResponse.ModelIndex')).toEqual({ name: 1, version: 2, state: 3, reason: 4 });
    expect(fieldIds('inference.RepositoryModelLoadRequest')).toEqual({ repository_name: 1, model_name: 2, parameters: 3 });
    expect(fieldIds('inference.ModelRepositoryParameter')).toEqual({ bool_param: 1, int64_param: 2, string_param: 3, bytes_param: 4 });
    expect(fieldIds('grpc.health.v1.HealthCheckRequest')).toEqual({ service: 1 });
    expect(fieldIds('grpc.health.v1.HealthCheckResponse')).toEqual({ status: 1 });
  });

  it('resolves ModelConfigResponse.config to the config layer schema', () => {
    const config = grpcRoot.lookupType('inference.ModelConfigResponse').fields.config.resolvedType;
    expect(config?.fullName).toBe('.inference.ModelConfig');
    expect(fieldIds('inference.ModelConfig')).toMatchObject({ name: 1, max_batch_size: 4, input: 5, output: 6 });
  });

  it('defines every RPC at /inference.GRPCInferenceService/<Rpc>, ModelStreamInfer bidirectional', () => {
    const def = serviceDefinition(INFERENCE_SERVICE);
    expect(Object.keys(def)).toEqual(expect.arrayContaining([
      'ServerLive', 'ServerReady', 'ModelReady', 'ServerMetadata', 'ModelMetadata', 'ModelInfer', 'ModelStreamInfer',
      'ModelConfig', 'ModelStatistics', 'RepositoryIndex', 'RepositoryModelLoad', 'RepositoryModelUnload',
    ]));
    expect(def.ModelInfer.path).toBe('/inference.GRPCInferenceService/ModelInfer');
    expect([def.ModelInfer.requestStream, def.ModelInfer.responseStream]).toEqual([false, false]);
    expect([def.ModelStreamInfer.requestStream, def.ModelStreamInfer.responseStream]).toEqual([true, true]);
    expect(serviceDefinition('grpc.health.v1.Health').Check.path).toBe('/grpc.health.v1.Health/Check');
  });
});

describe('wire compatibility', () => {
  const requestType = grpcRoot.lookupType('inference.ModelInferRequest');

  it('decodes a ModelInferRequest written by field number', () => {
    const bytes = handEncodedInferRequest({
      model: 'identity', version: '3', id: 'req-7', input: 'INPUT', shape: [1, 4], fp32: [1.5, -2, 0, 4.25],
      output: 'OUTPUT', classification: 3, boolParameter: 'triton_enable_empty_final_response',
    });
    const r = decodeMessage<GrpcModelInferRequest>(requestType, bytes);
    expect(r.model_name).toBe('identity');
    expect(r.model_version).toBe('3');
    expect(r.id).toBe('req-7');
    expect(r.parameters?.triton_enable_empty_final_response).toMatchObject({ parameter_choice: 'bool_param', bool_param: true });
    const input = r.inputs?.[0];
    expect(input?.name).toBe('INPUT');
    expect(input?.datatype).toBe('FP32');
    expect(input?.shape?.map(Number)).toEqual([1, 4]);
    expect(input?.contents?.fp32_contents).toEqual([1.5, -2, 0, 4.25]);
    expect(r.outputs?.[0]?.name).toBe('OUTPUT');
    expect(r.outputs?.[0]?.parameters?.classification).toMatchObject({ parameter_choice: 'int64_param', int64_param: '3' });
  });

  it('decodes raw_input_contents (field 7) as bytes in input order', () => {
    const w = requestType.encode(requestType.fromObject({})); // start from an empty message
    w.uint32((7 << 3) | 2).bytes(Uint8Array.of(1, 2, 3)).uint32((7 << 3) | 2).bytes(Uint8Array.of(9));
    const r = decodeMessage<GrpcModelInferRequest>(requestType, w.finish());
    expect(r.raw_input_contents?.map((b) => [...b])).toEqual([[1, 2, 3], [9]]);
  });

  it('writes raw_output_contents as field 6 and the model name as field 1 of ModelInferResponse', () => {
    const responseType = grpcRoot.lookupType('inference.ModelInferResponse');
    const bytes = encodeMessage(responseType, {
      model_name: 'm',
      model_version: '1',
      outputs: [{ name: 'A', datatype: 'UINT8', shape: [2] }, { name: 'B', datatype: 'UINT8', shape: [1] }],
      raw_output_contents: [Uint8Array.of(5, 6), Uint8Array.of(7)],
    });
    expect(readString(bytes, 1)).toBe('m');
    expect(readString(bytes, 2)).toBe('1');
    expect(readLengthDelimited(bytes, 6).map((b) => [...b])).toEqual([[5, 6], [7]]);
    expect(readLengthDelimited(bytes, 5)).toHaveLength(2);
  });
});
