/**
 * The text of model_config.proto (next to this file), as a module so that it travels with the compiled
 * code: tsc does not copy .proto files into dist/, and reading the file relative to import.meta.url
 * would need a build step that copies it. model_config.proto stays the human-readable source;
 * test/unit/core/config/model-config-proto.test.ts fails when the two drift apart.
 */
export const MODEL_CONFIG_PROTO = `// ofserve's schema for config.pbtxt: the part of Triton's inference.ModelConfig that an image
// classifier server uses, with Triton's field numbers and enum values so that a config written for
// Triton parses here unchanged (and the JSON form matches Triton's). Fields Triton has and ofserve
// does not model (sequence batching, ensembles, rate limiter, ...) are rejected by the parser with a
// message naming them.
//
// The runtime copy of this text lives in model-config-proto.ts (see the comment there); a unit test
// keeps the two identical.

syntax = "proto3";

package inference;

enum DataType {
  TYPE_INVALID = 0;
  TYPE_BOOL = 1;
  TYPE_UINT8 = 2;
  TYPE_UINT16 = 3;
  TYPE_UINT32 = 4;
  TYPE_UINT64 = 5;
  TYPE_INT8 = 6;
  TYPE_INT16 = 7;
  TYPE_INT32 = 8;
  TYPE_INT64 = 9;
  TYPE_FP16 = 10;
  TYPE_FP32 = 11;
  TYPE_FP64 = 12;
  TYPE_STRING = 13;
  TYPE_BF16 = 14;
}

message ModelConfig {
  string name = 1;
  string platform = 2;
  string backend = 17;
  string runtime = 25;
  ModelVersionPolicy version_policy = 3;
  // 0 means the model takes no batch dimension.
  int32 max_batch_size = 4;
  repeated ModelInput input = 5;
  repeated ModelOutput output = 6;
  repeated ModelInstanceGroup instance_group = 7;
  string default_model_filename = 8;
  map<string, string> cc_model_filenames = 9;
  map<string, string> metric_tags = 10;
  oneof scheduling_choice {
    ModelDynamicBatching dynamic_batching = 11;
  }
  ModelOptimizationPolicy optimization = 12;
  map<string, ModelParameter> parameters = 14;
  repeated ModelWarmup model_warmup = 16;
  ModelTransactionPolicy model_transaction_policy = 19;
  ModelResponseCache response_cache = 24;
}

message ModelVersionPolicy {
  message Latest {
    uint32 num_versions = 1;
  }
  message All {}
  message Specific {
    repeated int64 versions = 1;
  }
  oneof policy_choice {
    Latest latest = 1;
    All all = 2;
    Specific specific = 3;
  }
}

message ModelTensorReshape {
  repeated int64 shape = 1;
}

message ModelInput {
  enum Format {
    FORMAT_NONE = 0;
    FORMAT_NHWC = 1;
    FORMAT_NCHW = 2;
  }
  string name = 1;
  DataType data_type = 2;
  Format format = 3;
  // -1 marks a variable-size dimension.
  repeated int64 dims = 4;
  ModelTensorReshape reshape = 5;
  bool is_shape_tensor = 6;
  bool allow_ragged_batch = 7;
  bool optional = 8;
  bool is_non_linear_format_io = 9;
}

message ModelOutput {
  string name = 1;
  DataType data_type = 2;
  repeated int64 dims = 3;
  string label_filename = 4;
  ModelTensorReshape reshape = 5;
  bool is_shape_tensor = 6;
  bool is_non_linear_format_io = 7;
}

message ModelInstanceGroup {
  enum Kind {
    KIND_AUTO = 0;
    KIND_GPU = 1;
    KIND_CPU = 2;
    KIND_MODEL = 3;
  }
  string name = 1;
  int32 count = 2;
  repeated int32 gpus = 3;
  Kind kind = 4;
  repeated string profile = 5;
  bool passive = 7;
  string host_policy = 9;
}

message ModelQueuePolicy {
  enum TimeoutAction {
    REJECT = 0;
    DELAY = 1;
  }
  TimeoutAction timeout_action = 1;
  uint64 default_timeout_microseconds = 2;
  bool allow_timeout_override = 3;
  uint32 max_queue_size = 4;
}

message ModelDynamicBatching {
  repeated int32 preferred_batch_size = 1;
  uint64 max_queue_delay_microseconds = 2;
  bool preserve_ordering = 3;
  uint64 priority_levels = 4;
  uint64 default_priority_level = 5;
  ModelQueuePolicy default_queue_policy = 6;
  map<uint64, ModelQueuePolicy> priority_queue_policy = 7;
}

// Accepted so that Triton configs tuned for onnxruntime load; ofserve does not act on it.
message ModelOptimizationPolicy {
  enum ModelPriority {
    PRIORITY_DEFAULT = 0;
    PRIORITY_MAX = 1;
    PRIORITY_MIN = 2;
  }
  message Graph {
    int32 level = 1;
  }
  message Cuda {
    bool graphs = 1;
    bool busy_wait_events = 2;
    bool output_copy_stream = 4;
  }
  message ExecutionAccelerators {
    message Accelerator {
      string name = 1;
      map<string, string> parameters = 2;
    }
    repeated Accelerator gpu_execution_accelerator = 1;
    repeated Accelerator cpu_execution_accelerator = 2;
  }
  message PinnedMemoryBuffer {
    bool enable = 1;
  }
  Graph graph = 1;
  ModelPriority priority = 2;
  Cuda cuda = 3;
  ExecutionAccelerators execution_accelerators = 4;
  PinnedMemoryBuffer input_pinned_memory = 5;
  PinnedMemoryBuffer output_pinned_memory = 6;
  uint32 gather_kernel_buffer_threshold = 7;
  bool eager_batching = 8;
}

message ModelParameter {
  string string_value = 1;
}

message ModelWarmup {
  message Input {
    DataType data_type = 1;
    repeated int64 dims = 2;
    oneof input_data_type {
      bool zero_data = 3;
      bool random_data = 4;
      // Relative to the model's warmup/ folder.
      string input_data_file = 5;
    }
  }
  string name = 1;
  uint32 batch_size = 2;
  map<string, Input> inputs = 3;
  uint32 count = 4;
}

message ModelTransactionPolicy {
  bool decoupled = 1;
}

message ModelResponseCache {
  bool enable = 1;
}
`;
