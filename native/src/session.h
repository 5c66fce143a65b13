// One loaded model on one GPU: its weights uploaded once, every plan tensor allocated for maxBatch, cuDNN
// descriptors and algorithm choices prepared per batch size on first use, one stream, one workspace.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <vector>

#include "gpu_runtime.h"
#include "plan.h"

namespace ofs {

struct SessionOptions {
  // Lets cuDNN and cuBLAS use TF32 tensor cores for float32 (about 1e-3 relative error). Off by default so the
  // GPU agrees with the CPU backend to float32 rounding. OFSERVE_NATIVE_MATH=tf32 turns it on.
  bool allowTf32 = false;
  // Largest cuDNN workspace one convolution may ask for. OFSERVE_NATIVE_WORKSPACE_MB, default 1024.
  size_t workspaceLimitBytes = size_t(1) << 30;

  static SessionOptions fromEnvironment();
};

class Session {
 public:
  // Throws NativeError; whatever was allocated before the failure is freed.
  Session(Plan plan, const float* weights, int device, int maxBatch, const GpuLibraries& libs, SessionOptions options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  size_t inputElementsPerSample() const { return plan_.tensor(plan_.inputTensor).perSample; }
  size_t outputElementsPerSample() const { return plan_.tensor(plan_.outputTensor).perSample; }
  int maxBatch() const { return maxBatch_; }

  // Thread-safe (one run at a time per session); `input` holds batch × inputElementsPerSample() floats.
  std::vector<float> run(const float* input, int batch);

 private:
  struct ConvExec {
    cudnnTensorDescriptor_t x = nullptr;
    cudnnTensorDescriptor_t y = nullptr;
    cudnnFilterDescriptor_t w = nullptr;
    cudnnConvolutionDescriptor_t conv = nullptr;
    cudnnConvolutionFwdAlgo_t algo = 0;
  };
  // Indexed by step; entries for non-conv steps stay empty.
  using BatchExec = std::vector<ConvExec>;

  BatchExec& prepare(int batch);
  void prepareConv(const Step& step, int batch, ConvExec* exec, size_t* workspaceBytes);
  void destroyConv(ConvExec* exec);
  void execute(const BatchExec& exec, int batch);
  void ensureWorkspace(size_t bytes);
  float* activation(int tensorId) const;
  void release();

  Plan plan_;
  int device_;
  int maxBatch_;
  const GpuLibraries& libs_;
  SessionOptions options_;

  std::mutex mutex_;
  cudaStream_t stream_ = nullptr;
  cudnnHandle_t cudnn_ = nullptr;
  cublasHandle_t cublas_ = nullptr;

  float* weights_ = nullptr;                 // device: every step's weight and bias, each 256-byte aligned
  std::vector<const float*> stepWeight_;     // per step, into weights_
  std::vector<const float*> stepBias_;       // per step, into weights_ (null when none)
  float* activations_ = nullptr;             // device: every tensor for maxBatch, each 256-byte aligned
  std::vector<size_t> activationOffset_;     // per tensor index, in floats
  void* workspace_ = nullptr;
  size_t workspaceBytes_ = 0;
  float* hostInput_ = nullptr;               // pinned staging, maxBatch samples
  float* hostOutput_ = nullptr;
  std::map<int, BatchExec> batches_;
};

}  // namespace ofs
