// The element-wise and reduction steps that cuDNN/cuBLAS do not fuse for us, as plain CUDA kernels.
// Each launcher enqueues on `stream` and throws NativeError naming the kernel when the launch fails.
#pragma once

#include <string>

#include <cuda_runtime.h>

namespace ofs {

// y[n,c,i] = act(y[n,c,i] + bias[c] (+ residual[n,c,i])), for a conv or gemm output of `batch` × channels × spatial.
void launchBiasResidualRelu(float* y, const float* bias, const float* residual, bool relu, int batch, int channels,
                            long long spatial, cudaStream_t stream, const std::string& where);

// y = act(a + b), element-wise over `count`.
void launchAdd(const float* a, const float* b, float* y, bool relu, long long count, cudaStream_t stream,
               const std::string& where);

void launchRelu(const float* x, float* y, long long count, cudaStream_t stream, const std::string& where);

// y[r] = mean(x[r, 0..spatial)), one row per (n, c).
void launchGlobalAvgPool(const float* x, float* y, long long rows, int spatial, cudaStream_t stream,
                         const std::string& where);

struct PoolShape {
  int batch, channels, inH, inW, outH, outW;
  int kernelH, kernelW, strideH, strideW;
  int padTop, padLeft, padBottom, padRight;
};

// ONNX MaxPool: padding never wins (it is -inf). ONNX AveragePool: divisor is the window clipped to the input
// (countIncludePad false) or to the padded input (true), as PyTorch's avg_pool2d does.
void launchMaxPool(const float* x, float* y, const PoolShape& shape, cudaStream_t stream, const std::string& where);
void launchAvgPool(const float* x, float* y, const PoolShape& shape, bool countIncludePad, cudaStream_t stream,
                   const std::string& where);

// Softmax over each of `rows` contiguous rows of `cols` elements.
void launchSoftmax(const float* x, float* y, long long rows, int cols, cudaStream_t stream, const std::string& where);

}  // namespace ofs
