#include "kernels.h"

#include <cfloat>

#include "native_error.h"

namespace ofs {

namespace {

constexpr int kThreads = 256;

// Grid-stride kernels are launched with at most this many blocks; the loop covers the rest.
int blocksFor(long long count) {
  long long blocks = (count + kThreads - 1) / kThreads;
  if (blocks < 1) blocks = 1;
  return static_cast<int>(blocks > 65535 * 8 ? 65535 * 8 : blocks);
}

__global__ void biasResidualReluKernel(float* y, const float* bias, const float* residual, bool relu, int channels,
                                       long long spatial, long long total) {
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    float v = y[i];
    if (bias != nullptr) v += bias[(i / spatial) % channels];
    if (residual != nullptr) v += residual[i];
    y[i] = relu ? fmaxf(v, 0.0f) : v;
  }
}

__global__ void addKernel(const float* a, const float* b, float* y, bool relu, long long count) {
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    float v = a[i] + b[i];
    y[i] = relu ? fmaxf(v, 0.0f) : v;
  }
}

__global__ void reluKernel(const float* x, float* y, long long count) {
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    y[i] = fmaxf(x[i], 0.0f);
  }
}

// One warp per row: ResNet's rows are 49 elements, so a block per row would idle most threads.
__global__ void globalAvgPoolKernel(const float* x, float* y, long long rows, int spatial) {
  long long warp = (blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x) / 32;
  int lane = threadIdx.x % 32;
  if (warp >= rows) return;
  const float* row = x + warp * spatial;
  float sum = 0.0f;
  for (int i = lane; i < spatial; i += 32) sum += row[i];
  for (int offset = 16; offset > 0; offset /= 2) sum += __shfl_down_sync(0xffffffffu, sum, offset);
  if (lane == 0) y[warp] = sum / static_cast<float>(spatial);
}

__global__ void poolKernel(const float* x, float* y, PoolShape s, bool isMax, bool countIncludePad, long long total) {
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    int ow = static_cast<int>(i % s.outW);
    int oh = static_cast<int>((i / s.outW) % s.outH);
    long long plane = i / (static_cast<long long>(s.outW) * s.outH);  // n * C + c
    const float* in = x + plane * s.inH * s.inW;
    int hStart = oh * s.strideH - s.padTop;
    int wStart = ow * s.strideW - s.padLeft;
    int hEndPadded = min(hStart + s.kernelH, s.inH + s.padBottom);
    int wEndPadded = min(wStart + s.kernelW, s.inW + s.padRight);
    int paddedCount = (hEndPadded - hStart) * (wEndPadded - wStart);
    int h0 = max(hStart, 0), w0 = max(wStart, 0);
    int h1 = min(hStart + s.kernelH, s.inH), w1 = min(wStart + s.kernelW, s.inW);
    float acc = isMax ? -FLT_MAX : 0.0f;
    for (int h = h0; h < h1; ++h) {
      for (int w = w0; w < w1; ++w) {
        float v = in[h * s.inW + w];
        acc = isMax ? fmaxf(acc, v) : acc + v;
      }
    }
    if (!isMax) {
      int count = countIncludePad ? paddedCount : (h1 - h0) * (w1 - w0);
      acc = count > 0 ? acc / static_cast<float>(count) : 0.0f;
    }
    y[i] = acc;
  }
}

// One block per row; three passes (max, sum of exp, write) keep it numerically safe.
__global__ void softmaxKernel(const float* x, float* y, int cols) {
  __shared__ float scratch[kThreads];
  const float* in = x + static_cast<long long>(blockIdx.x) * cols;
  float* out = y + static_cast<long long>(blockIdx.x) * cols;

  float m = -FLT_MAX;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) m = fmaxf(m, in[i]);
  scratch[threadIdx.x] = m;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) scratch[threadIdx.x] = fmaxf(scratch[threadIdx.x], scratch[threadIdx.x + stride]);
    __syncthreads();
  }
  float rowMax = scratch[0];
  __syncthreads();

  float sum = 0.0f;
  for (int i = threadIdx.x; i < cols; i += blockDim.x) sum += expf(in[i] - rowMax);
  scratch[threadIdx.x] = sum;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) scratch[threadIdx.x] += scratch[threadIdx.x + stride];
    __syncthreads();
  }
  float inv = 1.0f / scratch[0];
  for (int i = threadIdx.x; i < cols; i += blockDim.x) out[i] = expf(in[i] - rowMax) * inv;
}

}  // namespace

void launchBiasResidualRelu(float* y, const float* bias, const float* residual, bool relu, int batch, int channels,
                            long long spatial, cudaStream_t stream, const std::string& where) {
  long long total = static_cast<long long>(batch) * channels * spatial;
  biasResidualReluKernel<<<blocksFor(total), kThreads, 0, stream>>>(y, bias, residual, relu, channels, spatial, total);
  checkLaunch("biasResidualReluKernel<<<>>>", where);
}

void launchAdd(const float* a, const float* b, float* y, bool relu, long long count, cudaStream_t stream,
               const std::string& where) {
  addKernel<<<blocksFor(count), kThreads, 0, stream>>>(a, b, y, relu, count);
  checkLaunch("addKernel<<<>>>", where);
}

void launchRelu(const float* x, float* y, long long count, cudaStream_t stream, const std::string& where) {
  reluKernel<<<blocksFor(count), kThreads, 0, stream>>>(x, y, count);
  checkLaunch("reluKernel<<<>>>", where);
}

void launchGlobalAvgPool(const float* x, float* y, long long rows, int spatial, cudaStream_t stream,
                         const std::string& where) {
  long long threads = rows * 32;
  long long blocks = (threads + kThreads - 1) / kThreads;
  globalAvgPoolKernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(x, y, rows, spatial);
  checkLaunch("globalAvgPoolKernel<<<>>>", where);
}

void launchMaxPool(const float* x, float* y, const PoolShape& shape, cudaStream_t stream, const std::string& where) {
  long long total = static_cast<long long>(shape.batch) * shape.channels * shape.outH * shape.outW;
  poolKernel<<<blocksFor(total), kThreads, 0, stream>>>(x, y, shape, true, false, total);
  checkLaunch("poolKernel<<<>>> (max)", where);
}

void launchAvgPool(const float* x, float* y, const PoolShape& shape, bool countIncludePad, cudaStream_t stream,
                   const std::string& where) {
  long long total = static_cast<long long>(shape.batch) * shape.channels * shape.outH * shape.outW;
  poolKernel<<<blocksFor(total), kThreads, 0, stream>>>(x, y, shape, false, countIncludePad, total);
  checkLaunch("poolKernel<<<>>> (avg)", where);
}

void launchSoftmax(const float* x, float* y, long long rows, int cols, cudaStream_t stream, const std::string& where) {
  softmaxKernel<<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(x, y, cols);
  checkLaunch("softmaxKernel<<<>>>", where);
}

}  // namespace ofs
