/**
 * The text of grpc_service.proto and grpc_health.proto (next to this file), as a module so that it
 * travels with the compiled code: tsc copies no .proto files into dist/. The .proto files stay the
 * human-readable source; test/unit/server/grpc/schema.test.ts fails when they drift apart.
 */
export const GRPC_SERVICE_PROTO = `// ofserve's schema of Triton's gRPC endpoint (KServe v2 "inference" package). Message and field
// numbers match Triton's common/protobuf/grpc_service.proto (see triton-protocol.md §5), so that
// tritonclient.grpc, perf_analyzer and triton_cli talk to ofserve unchanged. RPCs ofserve does not
// implement (shared memory, trace, logging) are declared so their method paths exist; they answer
// UNIMPLEMENTED, so their messages carry no fields here (decoding skips the fields a client sends).
//
// ModelConfig and its parts come from model_config.proto (src/core/config/), loaded into the same
// protobufjs Root. The runtime copy of this text lives in grpc-service-proto.ts; a unit test keeps
// the two identical.

syntax = "proto3";

package inference;

import "model_config.proto";

service GRPCInferenceService {
  rpc ServerLive(ServerLiveRequest) returns (ServerLiveResponse) {}
  rpc ServerReady(ServerReadyRequest) returns (ServerReadyResponse) {}
  rpc ModelReady(ModelReadyRequest) returns (ModelReadyResponse) {}
  rpc ServerMetadata(ServerMetadataRequest) returns (ServerMetadataResponse) {}
  rpc ModelMetadata(ModelMetadataRequest) returns (ModelMetadataResponse) {}
  rpc ModelInfer(ModelInferRequest) returns (ModelInferResponse) {}
  rpc ModelStreamInfer(stream ModelInferRequest) returns (stream ModelStreamInferResponse) {}
  rpc ModelConfig(ModelConfigRequest) returns (ModelConfigResponse) {}
  rpc ModelStatistics(ModelStatisticsRequest) returns (ModelStatisticsResponse) {}
  rpc RepositoryIndex(RepositoryIndexRequest) returns (RepositoryIndexResponse) {}
  rpc RepositoryModelLoad(RepositoryModelLoadRequest) returns (RepositoryModelLoadResponse) {}
  rpc RepositoryModelUnload(RepositoryModelUnloadRequest) returns (RepositoryModelUnloadResponse) {}
  rpc SystemSharedMemoryStatus(SystemSharedMemoryStatusRequest) returns (SystemSharedMemoryStatusResponse) {}
  rpc SystemSharedMemoryRegister(SystemSharedMemoryRegisterRequest) returns (SystemSharedMemoryRegisterResponse) {}
  rpc SystemSharedMemoryUnregister(SystemSharedMemoryUnregisterRequest) returns (SystemSharedMemoryUnregisterResponse) {}
  rpc CudaSharedMemoryStatus(CudaSharedMemoryStatusRequest) returns (CudaSharedMemoryStatusResponse) {}
  rpc CudaSharedMemoryRegister(CudaSharedMemoryRegisterRequest) returns (CudaSharedMemoryRegisterResponse) {}
  rpc CudaSharedMemoryUnregister(CudaSharedMemoryUnregisterRequest) returns (CudaSharedMemoryUnregisterResponse) {}
  rpc TraceSetting(TraceSettingRequest) returns (TraceSettingResponse) {}
  rpc LogSettings(LogSettingsRequest) returns (LogSettingsResponse) {}
}

// ── health and metadata ──────────────────────────────────────────────────────────────────────────

message ServerLiveRequest {}

message ServerLiveResponse {
  bool live = 1;
}

message ServerReadyRequest {}

message ServerReadyResponse {
  bool ready = 1;
}

message ModelReadyRequest {
  string name = 1;
  // "" = the highest ready version.
  string version = 2;
}

message ModelReadyResponse {
  bool ready = 1;
}

message ServerMetadataRequest {}

message ServerMetadataResponse {
  string name = 1;
  string version = 2;
  repeated string extensions = 3;
}

message ModelMetadataRequest {
  string name = 1;
  string version = 2;
}

message ModelMetadataResponse {
  message TensorMetadata {
    string name = 1;
    string datatype = 2;
    // -1 marks a variable-size dimension (the batch dimension of a batching model).
    repeated int64 shape = 3;
  }
  string name = 1;
  repeated string versions = 2;
  string platform = 3;
  repeated TensorMetadata inputs = 4;
  repeated TensorMetadata outputs = 5;
}

// ── inference ────────────────────────────────────────────────────────────────────────────────────

// KServe defines fields 1-3; Triton adds 4 and 5.
message InferParameter {
  oneof parameter_choice {
    bool bool_param = 1;
    int64 int64_param = 2;
    string string_param = 3;
    double double_param = 4;
    uint64 uint64_param = 5;
  }
}

// Typed tensor data, flattened row-major. FP16 and BF16 have no field: they travel raw.
message InferTensorContents {
  repeated bool bool_contents = 1;
  // INT8, INT16, INT32.
  repeated int32 int_contents = 2;
  repeated int64 int64_contents = 3;
  // UINT8, UINT16, UINT32.
  repeated uint32 uint_contents = 4;
  repeated uint64 uint64_contents = 5;
  repeated float fp32_contents = 6;
  repeated double fp64_contents = 7;
  repeated bytes bytes_contents = 8;
}

message ModelInferRequest {
  message InferInputTensor {
    string name = 1;
    string datatype = 2;
    repeated int64 shape = 3;
    map<string, InferParameter> parameters = 4;
    // Not allowed together with raw_input_contents.
    InferTensorContents contents = 5;
  }
  message InferRequestedOutputTensor {
    string name = 1;
    // "classification": int64_param k asks for the top k classes instead of the tensor.
    map<string, InferParameter> parameters = 2;
  }
  string model_name = 1;
  // "" = the highest ready version.
  string model_version = 2;
  string id = 3;
  map<string, InferParameter> parameters = 4;
  repeated InferInputTensor inputs = 5;
  // Empty = every output of the model.
  repeated InferRequestedOutputTensor outputs = 6;
  // One entry per input, in the order of inputs: little-endian, row-major, BYTES length-prefixed.
  repeated bytes raw_input_contents = 7;
}

message ModelInferResponse {
  message InferOutputTensor {
    string name = 1;
    string datatype = 2;
    repeated int64 shape = 3;
    map<string, InferParameter> parameters = 4;
    // ofserve never fills it: clients decode raw_output_contents.
    InferTensorContents contents = 5;
  }
  string model_name = 1;
  string model_version = 2;
  string id = 3;
  map<string, InferParameter> parameters = 4;
  repeated InferOutputTensor outputs = 5;
  // One entry per output, in the order of outputs.
  repeated bytes raw_output_contents = 6;
}

message ModelStreamInferResponse {
  // Empty on success.
  string error_message = 1;
  ModelInferResponse infer_response = 2;
}

// ── configuration and statistics ─────────────────────────────────────────────────────────────────

message ModelConfigRequest {
  string name = 1;
  string version = 2;
}

message ModelConfigResponse {
  ModelConfig config = 1;
}

message ModelStatisticsRequest {
  // "" = every ready model.
  string name = 1;
  string version = 2;
}

message StatisticDuration {
  uint64 count = 1;
  uint64 ns = 2;
}

message InferStatistics {
  StatisticDuration success = 1;
  StatisticDuration fail = 2;
  StatisticDuration queue = 3;
  StatisticDuration compute_input = 4;
  StatisticDuration compute_infer = 5;
  StatisticDuration compute_output = 6;
  StatisticDuration cache_hit = 7;
  StatisticDuration cache_miss = 8;
}

message InferResponseStatistics {
  StatisticDuration compute_infer = 1;
  StatisticDuration compute_output = 2;
  StatisticDuration success = 3;
  StatisticDuration fail = 4;
  StatisticDuration empty_response = 5;
  StatisticDuration cancel = 6;
}

message InferBatchStatistics {
  uint64 batch_size = 1;
  StatisticDuration compute_input = 2;
  StatisticDuration compute_infer = 3;
  StatisticDuration compute_output = 4;
}

message MemoryUsage {
  string type = 1;
  int64 id = 2;
  uint64 byte_size = 3;
}

message ModelStatistics {
  string name = 1;
  string version = 2;
  // Milliseconds since the epoch.
  uint64 last_inference = 3;
  uint64 inference_count = 4;
  uint64 execution_count = 5;
  InferStatistics inference_stats = 6;
  repeated InferBatchStatistics batch_stats = 7;
  repeated MemoryUsage memory_usage = 8;
  map<string, InferResponseStatistics> response_stats = 9;
}

message ModelStatisticsResponse {
  repeated ModelStatistics model_stats = 1;
}

// ── model repository ─────────────────────────────────────────────────────────────────────────────

message ModelRepositoryParameter {
  oneof parameter_choice {
    bool bool_param = 1;
    int64 int64_param = 2;
    string string_param = 3;
    bytes bytes_param = 4;
  }
}

message RepositoryIndexRequest {
  // Only "" (ofserve serves one repository).
  string repository_name = 1;
  bool ready = 2;
}

message RepositoryIndexResponse {
  message ModelIndex {
    string name = 1;
    string version = 2;
    // UNKNOWN, READY, UNAVAILABLE, LOADING or UNLOADING.
    string state = 3;
    string reason = 4;
  }
  repeated ModelIndex models = 1;
}

message RepositoryModelLoadRequest {
  string repository_name = 1;
  string model_name = 2;
  map<string, ModelRepositoryParameter> parameters = 3;
}

message RepositoryModelLoadResponse {}

message RepositoryModelUnloadRequest {
  string repository_name = 1;
  string model_name = 2;
  map<string, ModelRepositoryParameter> parameters = 3;
}

message RepositoryModelUnloadResponse {}

// ── not implemented: declared for their method paths only ────────────────────────────────────────

message SystemSharedMemoryStatusRequest {}
message SystemSharedMemoryStatusResponse {}
message SystemSharedMemoryRegisterRequest {}
message SystemSharedMemoryRegisterResponse {}
message SystemSharedMemoryUnregisterRequest {}
message SystemSharedMemoryUnregisterResponse {}
message CudaSharedMemoryStatusRequest {}
message CudaSharedMemoryStatusResponse {}
message CudaSharedMemoryRegisterRequest {}
message CudaSharedMemoryRegisterResponse {}
message CudaSharedMemoryUnregisterRequest {}
message CudaSharedMemoryUnregisterResponse {}
message TraceSettingRequest {}
message TraceSettingResponse {}
message LogSettingsRequest {}
message LogSettingsResponse {}
`;

export const GRPC_HEALTH_PROTO = `// The standard gRPC health service (grpc/grpc doc/health-checking.md), which Triton serves next to
// GRPCInferenceService. Only Check is served; Watch answers UNIMPLEMENTED.
//
// The runtime copy of this text lives in grpc-service-proto.ts; a unit test keeps the two identical.

syntax = "proto3";

package grpc.health.v1;

message HealthCheckRequest {
  string service = 1;
}

message HealthCheckResponse {
  enum ServingStatus {
    UNKNOWN = 0;
    SERVING = 1;
    NOT_SERVING = 2;
    SERVICE_UNKNOWN = 3;
  }
  ServingStatus status = 1;
}

service Health {
  rpc Check(HealthCheckRequest) returns (HealthCheckResponse);
}
`;
