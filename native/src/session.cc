#include "session.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels.h"
#include "native_error.h"

namespace ofs {

namespace {

// 64 floats = 256 bytes, cudaMalloc's own alignment: cuDNN's faster kernels want aligned pointers.
constexpr size_t kAlignFloats = 64;
size_t alignUp(size_t n) { return (n + kAlignFloats - 1) / kAlignFloats * kAlignFloats; }

std::string bytesText(size_t bytes) { return std::to_string(bytes / (1024 * 1024)) + " MiB"; }

}  // namespace

SessionOptions SessionOptions::fromEnvironment() {
  SessionOptions o;
  const char* math = std::getenv("OFSERVE_NATIVE_MATH");
  if (math != nullptr && std::string(math) == "tf32") o.allowTf32 = true;
  const char* mb = std::getenv("OFSERVE_NATIVE_WORKSPACE_MB");
  if (mb != nullptr && std::atoll(mb) > 0) o.workspaceLimitBytes = static_cast<size_t>(std::atoll(mb)) << 20;
  return o;
}

Session::Session(Plan plan, const float* weights, int device, int maxBatch, const GpuLibraries& libs,
                 SessionOptions options)
    : plan_(std::move(plan)), device_(device), maxBatch_(maxBatch), libs_(libs), options_(options) {
  try {
    const CudnnApi& dnn = libs_.cudnn;
    const CublasApi& blas = libs_.cublas;
    checkCuda(cudaSetDevice(device_), "cudaSetDevice", "device " + std::to_string(device_));
    checkCuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    dnn.check(dnn.cudnnCreate(&cudnn_), "cudnnCreate");
    dnn.check(dnn.cudnnSetStream(cudnn_, stream_), "cudnnSetStream");
    blas.check(blas.cublasCreate_v2(&cublas_), "cublasCreate_v2");
    blas.check(blas.cublasSetStream_v2(cublas_, stream_), "cublasSetStream_v2");
    blas.check(blas.cublasSetMathMode(cublas_, options_.allowTf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
               "cublasSetMathMode");

    // Weights: pack each step's weight and bias at aligned offsets, then upload once.
    std::vector<std::pair<size_t, WeightRef>> placed;  // (device offset, source ref)
    size_t packed = 0;
    auto place = [&](const WeightRef& ref) {
      placed.emplace_back(packed, ref);
      packed += alignUp(ref.length);
      return placed.back().first;
    };
    std::vector<size_t> weightAt(plan_.steps.size(), SIZE_MAX), biasAt(plan_.steps.size(), SIZE_MAX);
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      const Step& s = plan_.steps[i];
      if (s.op != StepOp::Conv && s.op != StepOp::Gemm) continue;
      weightAt[i] = place(s.weight);
      if (s.hasBias) biasAt[i] = place(s.bias);
    }
    if (packed > 0) {
      checkCuda(cudaMalloc(reinterpret_cast<void**>(&weights_), packed * sizeof(float)), "cudaMalloc",
                "weights, " + bytesText(packed * sizeof(float)));
      for (const auto& [at, ref] : placed) {
        if (ref.length == 0) continue;
        checkCuda(cudaMemcpy(weights_ + at, weights + ref.offset, ref.length * sizeof(float), cudaMemcpyHostToDevice),
                  "cudaMemcpy", "weights upload");
      }
      // A pageable cudaMemcpy may return before its DMA lands, and stream_ (non-blocking) does not wait for the
      // legacy stream that carries it: without this the first run could read half-uploaded weights.
      checkCuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize", "weights upload");
    }
    stepWeight_.assign(plan_.steps.size(), nullptr);
    stepBias_.assign(plan_.steps.size(), nullptr);
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      if (weightAt[i] != SIZE_MAX) stepWeight_[i] = weights_ + weightAt[i];
      if (biasAt[i] != SIZE_MAX) stepBias_[i] = weights_ + biasAt[i];
    }

    // Activations: every declared tensor for maxBatch samples, one allocation.
    size_t total = 0;
    for (const TensorDecl& t : plan_.tensors) {
      activationOffset_.push_back(total);
      total += alignUp(t.perSample * static_cast<size_t>(maxBatch_));
    }
    checkCuda(cudaMalloc(reinterpret_cast<void**>(&activations_), total * sizeof(float)), "cudaMalloc",
              "activations for batch " + std::to_string(maxBatch_) + ", " + bytesText(total * sizeof(float)));

    size_t inBytes = inputElementsPerSample() * maxBatch_ * sizeof(float);
    size_t outBytes = outputElementsPerSample() * maxBatch_ * sizeof(float);
    checkCuda(cudaMallocHost(reinterpret_cast<void**>(&hostInput_), inBytes), "cudaMallocHost", "input staging");
    checkCuda(cudaMallocHost(reinterpret_cast<void**>(&hostOutput_), outBytes), "cudaMallocHost", "output staging");

    // Prepared now so that a plan cuDNN rejects fails at load, not at the first request.
    prepare(maxBatch_);
  } catch (...) {
    release();
    throw;
  }
}

Session::~Session() { release(); }

void Session::release() {
  // Errors are ignored here: this runs on teardown paths where nothing can report them.
  if (cudaSetDevice(device_) != cudaSuccess) {
    cudaGetLastError();
    return;
  }
  if (stream_ != nullptr) cudaStreamSynchronize(stream_);
  for (auto& [batch, exec] : batches_) {
    for (ConvExec& c : exec) destroyConv(&c);
  }
  batches_.clear();
  if (cudnn_ != nullptr) libs_.cudnn.cudnnDestroy(cudnn_);
  if (cublas_ != nullptr) libs_.cublas.cublasDestroy_v2(cublas_);
  cudnn_ = nullptr;
  cublas_ = nullptr;
  if (weights_ != nullptr) cudaFree(weights_);
  if (activations_ != nullptr) cudaFree(activations_);
  if (workspace_ != nullptr) cudaFree(workspace_);
  if (hostInput_ != nullptr) cudaFreeHost(hostInput_);
  if (hostOutput_ != nullptr) cudaFreeHost(hostOutput_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
  weights_ = activations_ = hostInput_ = hostOutput_ = nullptr;
  workspace_ = nullptr;
  workspaceBytes_ = 0;
  stream_ = nullptr;
  cudaGetLastError();
}

float* Session::activation(int tensorId) const { return activations_ + activationOffset_[plan_.tensorIndex(tensorId)]; }

void Session::destroyConv(ConvExec* c) {
  const CudnnApi& dnn = libs_.cudnn;
  if (c->x != nullptr) dnn.cudnnDestroyTensorDescriptor(c->x);
  if (c->y != nullptr) dnn.cudnnDestroyTensorDescriptor(c->y);
  if (c->w != nullptr) dnn.cudnnDestroyFilterDescriptor(c->w);
  if (c->conv != nullptr) dnn.cudnnDestroyConvolutionDescriptor(c->conv);
  *c = ConvExec{};
}

void Session::prepareConv(const Step& s, int batch, ConvExec* c, size_t* workspaceBytes) {
  const CudnnApi& dnn = libs_.cudnn;
  const std::string where = s.label + ", batch " + std::to_string(batch);
  const auto& xs = plan_.tensor(s.x).shape;
  const auto& ys = plan_.tensor(s.y).shape;

  dnn.check(dnn.cudnnCreateTensorDescriptor(&c->x), "cudnnCreateTensorDescriptor", where);
  dnn.check(dnn.cudnnCreateTensorDescriptor(&c->y), "cudnnCreateTensorDescriptor", where);
  dnn.check(dnn.cudnnCreateFilterDescriptor(&c->w), "cudnnCreateFilterDescriptor", where);
  dnn.check(dnn.cudnnCreateConvolutionDescriptor(&c->conv), "cudnnCreateConvolutionDescriptor", where);
  dnn.check(dnn.cudnnSetTensor4dDescriptor(c->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, batch, xs[0], xs[1], xs[2]),
            "cudnnSetTensor4dDescriptor", where + " x");
  dnn.check(dnn.cudnnSetTensor4dDescriptor(c->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, batch, ys[0], ys[1], ys[2]),
            "cudnnSetTensor4dDescriptor", where + " y");
  dnn.check(dnn.cudnnSetFilter4dDescriptor(c->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, s.weightShape[0], s.weightShape[1],
                                           s.weightShape[2], s.weightShape[3]),
            "cudnnSetFilter4dDescriptor", where);
  dnn.check(dnn.cudnnSetConvolution2dDescriptor(c->conv, s.pads[0], s.pads[1], s.strides[0], s.strides[1], s.dilations[0],
                                                s.dilations[1], CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
            "cudnnSetConvolution2dDescriptor", where);
  dnn.check(dnn.cudnnSetConvolutionGroupCount(c->conv, s.groups), "cudnnSetConvolutionGroupCount", where);
  dnn.check(dnn.cudnnSetConvolutionMathType(c->conv, options_.allowTf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH),
            "cudnnSetConvolutionMathType", where);

  int n = 0, k = 0, h = 0, w = 0;
  dnn.check(dnn.cudnnGetConvolution2dForwardOutputDim(c->conv, c->x, c->w, &n, &k, &h, &w),
            "cudnnGetConvolution2dForwardOutputDim", where);
  if (n != batch || k != ys[0] || h != ys[1] || w != ys[2]) {
    throw NativeError("cudnnGetConvolution2dForwardOutputDim: cuDNN computes [" + std::to_string(n) + "," +
                      std::to_string(k) + "," + std::to_string(h) + "," + std::to_string(w) +
                      "], the plan declares y as [" + std::to_string(batch) + "," + std::to_string(ys[0]) + "," +
                      std::to_string(ys[1]) + "," + std::to_string(ys[2]) + "] [" + where + "]");
  }

  int maxCount = 0;
  dnn.check(dnn.cudnnGetConvolutionForwardAlgorithmMaxCount(cudnn_, &maxCount),
            "cudnnGetConvolutionForwardAlgorithmMaxCount", where);
  std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(maxCount > 0 ? maxCount : 1));
  int returned = 0;
  dnn.check(dnn.cudnnGetConvolutionForwardAlgorithm_v7(cudnn_, c->x, c->w, c->conv, c->y, static_cast<int>(perf.size()),
                                                       &returned, perf.data()),
            "cudnnGetConvolutionForwardAlgorithm_v7", where);
  // Results come best first; take the first that works, fits the workspace limit, and keeps float32 exact
  // unless TF32 was allowed.
  const cudnnConvolutionFwdAlgoPerf_t* chosen = nullptr;
  for (int i = 0; i < returned; ++i) {
    const auto& p = perf[static_cast<size_t>(i)];
    if (p.status != CUDNN_STATUS_SUCCESS || p.memory > options_.workspaceLimitBytes) continue;
    if (!options_.allowTf32 && (p.mathType == CUDNN_TENSOR_OP_MATH || p.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)) continue;
    chosen = &p;
    break;
  }
  if (chosen == nullptr) {
    throw NativeError("cudnnGetConvolutionForwardAlgorithm_v7: none of " + std::to_string(returned) +
                      " algorithms is usable within a " + bytesText(options_.workspaceLimitBytes) +
                      " workspace (raise OFSERVE_NATIVE_WORKSPACE_MB) [" + where + "]");
  }
  c->algo = chosen->algo;
  if (options_.allowTf32) {
    dnn.check(dnn.cudnnSetConvolutionMathType(c->conv, chosen->mathType), "cudnnSetConvolutionMathType", where);
  }
  size_t bytes = 0;
  dnn.check(dnn.cudnnGetConvolutionForwardWorkspaceSize(cudnn_, c->x, c->w, c->conv, c->y, c->algo, &bytes),
            "cudnnGetConvolutionForwardWorkspaceSize", where);
  if (bytes > *workspaceBytes) *workspaceBytes = bytes;
}

Session::BatchExec& Session::prepare(int batch) {
  auto found = batches_.find(batch);
  if (found != batches_.end()) return found->second;
  BatchExec exec(plan_.steps.size());
  size_t workspaceBytes = 0;
  try {
    for (size_t i = 0; i < plan_.steps.size(); ++i) {
      if (plan_.steps[i].op == StepOp::Conv) prepareConv(plan_.steps[i], batch, &exec[i], &workspaceBytes);
    }
    ensureWorkspace(workspaceBytes);
  } catch (...) {
    for (ConvExec& c : exec) destroyConv(&c);
    throw;
  }
  return batches_.emplace(batch, std::move(exec)).first->second;
}

void Session::ensureWorkspace(size_t bytes) {
  if (bytes <= workspaceBytes_) return;
  // The previous run has synchronized, so nothing on the stream still uses the old workspace.
  if (workspace_ != nullptr) checkCuda(cudaFree(workspace_), "cudaFree", "workspace");
  workspace_ = nullptr;
  workspaceBytes_ = 0;
  checkCuda(cudaMalloc(&workspace_, bytes), "cudaMalloc", "cuDNN workspace, " + bytesText(bytes));
  workspaceBytes_ = bytes;
}

std::vector<float> Session::run(const float* input, int batch) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stream_ == nullptr) throw NativeError("run: the session was released");
  if (batch < 1 || batch > maxBatch_) {
    throw NativeError("run: batch " + std::to_string(batch) + " is outside [1, " + std::to_string(maxBatch_) + "]");
  }
  checkCuda(cudaSetDevice(device_), "cudaSetDevice", "device " + std::to_string(device_));
  const BatchExec& exec = prepare(batch);

  size_t inCount = inputElementsPerSample() * static_cast<size_t>(batch);
  size_t outCount = outputElementsPerSample() * static_cast<size_t>(batch);
  std::memcpy(hostInput_, input, inCount * sizeof(float));
  try {
    checkCuda(cudaMemcpyAsync(activation(plan_.inputTensor), hostInput_, inCount * sizeof(float), cudaMemcpyHostToDevice, stream_),
              "cudaMemcpyAsync", "input");
    execute(exec, batch);
    checkCuda(cudaMemcpyAsync(hostOutput_, activation(plan_.outputTensor), outCount * sizeof(float), cudaMemcpyDeviceToHost, stream_),
              "cudaMemcpyAsync", "output");
  } catch (...) {
    // A step failed after earlier ones were enqueued: drain them so the next run's memcpy into hostInput_ and
    // ensureWorkspace's cudaFree do not race work still reading those buffers.
    cudaStreamSynchronize(stream_);
    throw;
  }
  checkCuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize", "after the plan's steps");
  return std::vector<float>(hostOutput_, hostOutput_ + outCount);
}

void Session::execute(const BatchExec& exec, int batch) {
  const CudnnApi& dnn = libs_.cudnn;
  const CublasApi& blas = libs_.cublas;
  const float one = 1.0f, zero = 0.0f;
  for (size_t i = 0; i < plan_.steps.size(); ++i) {
    const Step& s = plan_.steps[i];
    const std::string& where = s.label;
    switch (s.op) {
      case StepOp::Conv: {
        const ConvExec& c = exec[i];
        float* y = activation(s.y);
        dnn.check(dnn.cudnnConvolutionForward(cudnn_, &one, c.x, activation(s.x), c.w, stepWeight_[i], c.conv, c.algo,
                                              workspace_, workspaceBytes_, &zero, c.y, y),
                  "cudnnConvolutionForward", where);
        const auto& ys = plan_.tensor(s.y).shape;
        launchBiasResidualRelu(y, stepBias_[i], s.residual >= 0 ? activation(s.residual) : nullptr, s.relu, batch, ys[0],
                               static_cast<long long>(ys[1]) * ys[2], stream_, where);
        break;
      }
      case StepOp::MaxPool:
      case StepOp::AvgPool: {
        const auto& xs = plan_.tensor(s.x).shape;
        const auto& ys = plan_.tensor(s.y).shape;
        PoolShape p{batch, xs[0], xs[1], xs[2], ys[1], ys[2], s.kernel[0], s.kernel[1], s.strides[0], s.strides[1],
                    s.pads[0], s.pads[1], s.pads[2], s.pads[3]};
        if (s.op == StepOp::MaxPool) launchMaxPool(activation(s.x), activation(s.y), p, stream_, where);
        else launchAvgPool(activation(s.x), activation(s.y), p, s.countIncludePad, stream_, where);
        break;
      }
      case StepOp::GlobalAvgPool: {
        const auto& xs = plan_.tensor(s.x).shape;
        launchGlobalAvgPool(activation(s.x), activation(s.y), static_cast<long long>(batch) * xs[0], xs[1] * xs[2], stream_, where);
        break;
      }
      case StepOp::Add:
        launchAdd(activation(s.a), activation(s.b), activation(s.y), s.relu,
                  static_cast<long long>(plan_.tensor(s.y).perSample) * batch, stream_, where);
        break;
      case StepOp::Relu:
        launchRelu(activation(s.x), activation(s.y), static_cast<long long>(plan_.tensor(s.y).perSample) * batch, stream_, where);
        break;
      case StepOp::Softmax: {
        // plan-format.ts: over each sample's whole tensor.
        launchSoftmax(activation(s.x), activation(s.y), batch, static_cast<int>(plan_.tensor(s.x).perSample), stream_, where);
        break;
      }
      case StepOp::Gemm: {
        // Row-major y[B,N] = x[B,K] · W[N,K]ᵀ is column-major yᵀ[N,B] = W(as col-major K×N)ᵀ · xᵀ(col-major K×B).
        int N = s.weightShape[0], K = s.weightShape[1];
        float* y = activation(s.y);
        blas.check(blas.cublasSgemm_v2(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, N, batch, K, &one, stepWeight_[i], K,
                                       activation(s.x), K, &zero, y, N),
                   "cublasSgemm_v2", where);
        if (s.hasBias || s.relu) launchBiasResidualRelu(y, stepBias_[i], nullptr, s.relu, batch, N, 1, stream_, where);
        break;
      }
    }
  }
}

}  // namespace ofs
