// The few cuDNN 9 entry points the addon calls, declared here (no cuDNN headers at build time) and bound at
// run time from libcudnn.so.9. Prototypes and enum values follow cuDNN 9's cudnn_graph.h / cudnn_ops.h /
// cudnn_cnn.h; the legacy (v7-style) convolution API is deprecated in cuDNN 9 but still exported.
#pragma once

#include <cstddef>
#include <string>

#include <cuda_runtime.h>

#include "dynlib.h"

namespace ofs {

// Opaque handles: pointers to cuDNN's own struct tags, never dereferenced here.
typedef struct cudnnContext* cudnnHandle_t;
typedef struct cudnnTensorStruct* cudnnTensorDescriptor_t;
typedef struct cudnnFilterStruct* cudnnFilterDescriptor_t;
typedef struct cudnnConvolutionStruct* cudnnConvolutionDescriptor_t;

// C enums are int-sized in the C ABI, so plain ints with named constants keep the calls exact.
typedef int cudnnStatus_t;
typedef int cudnnDataType_t;
typedef int cudnnTensorFormat_t;
typedef int cudnnConvolutionMode_t;
typedef int cudnnConvolutionFwdAlgo_t;
typedef int cudnnMathType_t;
typedef int cudnnDeterminism_t;

constexpr cudnnStatus_t CUDNN_STATUS_SUCCESS = 0;
constexpr cudnnDataType_t CUDNN_DATA_FLOAT = 0;
constexpr cudnnTensorFormat_t CUDNN_TENSOR_NCHW = 0;
// ONNX Conv is cross-correlation (no kernel flip).
constexpr cudnnConvolutionMode_t CUDNN_CROSS_CORRELATION = 1;
constexpr cudnnMathType_t CUDNN_DEFAULT_MATH = 0;
constexpr cudnnMathType_t CUDNN_TENSOR_OP_MATH = 1;
constexpr cudnnMathType_t CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION = 2;
constexpr cudnnMathType_t CUDNN_FMA_MATH = 3;

struct cudnnConvolutionFwdAlgoPerf_t {
  cudnnConvolutionFwdAlgo_t algo;
  cudnnStatus_t status;
  float time;
  size_t memory;
  cudnnDeterminism_t determinism;
  cudnnMathType_t mathType;
  int reserved[3];
};
static_assert(sizeof(cudnnConvolutionFwdAlgoPerf_t) == 48, "cudnnConvolutionFwdAlgoPerf_t layout must match cuDNN's");

// X(return type, name, parameter list)
#define OFS_CUDNN_FUNCTIONS(X)                                                                                      \
  X(size_t, cudnnGetVersion, (void))                                                                                \
  X(const char*, cudnnGetErrorString, (cudnnStatus_t status))                                                      \
  X(cudnnStatus_t, cudnnCreate, (cudnnHandle_t * handle))                                                          \
  X(cudnnStatus_t, cudnnDestroy, (cudnnHandle_t handle))                                                           \
  X(cudnnStatus_t, cudnnSetStream, (cudnnHandle_t handle, cudaStream_t stream))                                    \
  X(cudnnStatus_t, cudnnCreateTensorDescriptor, (cudnnTensorDescriptor_t * desc))                                  \
  X(cudnnStatus_t, cudnnSetTensor4dDescriptor,                                                                      \
    (cudnnTensorDescriptor_t desc, cudnnTensorFormat_t format, cudnnDataType_t dataType, int n, int c, int h, int w)) \
  X(cudnnStatus_t, cudnnDestroyTensorDescriptor, (cudnnTensorDescriptor_t desc))                                   \
  X(cudnnStatus_t, cudnnCreateFilterDescriptor, (cudnnFilterDescriptor_t * desc))                                  \
  X(cudnnStatus_t, cudnnSetFilter4dDescriptor,                                                                      \
    (cudnnFilterDescriptor_t desc, cudnnDataType_t dataType, cudnnTensorFormat_t format, int k, int c, int h, int w)) \
  X(cudnnStatus_t, cudnnDestroyFilterDescriptor, (cudnnFilterDescriptor_t desc))                                   \
  X(cudnnStatus_t, cudnnCreateConvolutionDescriptor, (cudnnConvolutionDescriptor_t * desc))                        \
  X(cudnnStatus_t, cudnnSetConvolution2dDescriptor,                                                                 \
    (cudnnConvolutionDescriptor_t desc, int padH, int padW, int strideH, int strideW, int dilationH, int dilationW,  \
     cudnnConvolutionMode_t mode, cudnnDataType_t computeType))                                                     \
  X(cudnnStatus_t, cudnnSetConvolutionGroupCount, (cudnnConvolutionDescriptor_t desc, int groupCount))             \
  X(cudnnStatus_t, cudnnSetConvolutionMathType, (cudnnConvolutionDescriptor_t desc, cudnnMathType_t mathType))     \
  X(cudnnStatus_t, cudnnDestroyConvolutionDescriptor, (cudnnConvolutionDescriptor_t desc))                         \
  X(cudnnStatus_t, cudnnGetConvolution2dForwardOutputDim,                                                          \
    (cudnnConvolutionDescriptor_t convDesc, cudnnTensorDescriptor_t xDesc, cudnnFilterDescriptor_t wDesc, int* n,   \
     int* c, int* h, int* w))                                                                                       \
  X(cudnnStatus_t, cudnnGetConvolutionForwardAlgorithmMaxCount, (cudnnHandle_t handle, int* count))                \
  X(cudnnStatus_t, cudnnGetConvolutionForwardAlgorithm_v7,                                                         \
    (cudnnHandle_t handle, cudnnTensorDescriptor_t xDesc, cudnnFilterDescriptor_t wDesc,                            \
     cudnnConvolutionDescriptor_t convDesc, cudnnTensorDescriptor_t yDesc, int requestedAlgoCount,                  \
     int* returnedAlgoCount, cudnnConvolutionFwdAlgoPerf_t* perfResults))                                           \
  X(cudnnStatus_t, cudnnGetConvolutionForwardWorkspaceSize,                                                        \
    (cudnnHandle_t handle, cudnnTensorDescriptor_t xDesc, cudnnFilterDescriptor_t wDesc,                            \
     cudnnConvolutionDescriptor_t convDesc, cudnnTensorDescriptor_t yDesc, cudnnConvolutionFwdAlgo_t algo,          \
     size_t * sizeInBytes))                                                                                         \
  X(cudnnStatus_t, cudnnConvolutionForward,                                                                        \
    (cudnnHandle_t handle, const void* alpha, cudnnTensorDescriptor_t xDesc, const void* x,                         \
     cudnnFilterDescriptor_t wDesc, const void* w, cudnnConvolutionDescriptor_t convDesc,                           \
     cudnnConvolutionFwdAlgo_t algo, void* workSpace, size_t workSpaceSizeInBytes, const void* beta,                \
     cudnnTensorDescriptor_t yDesc, void* y))

// cuDNN's function table, bound once from an opened libcudnn.so.9.
struct CudnnApi {
#define OFS_DECLARE_POINTER(ret, name, params) ret(*name) params = nullptr;
  OFS_CUDNN_FUNCTIONS(OFS_DECLARE_POINTER)
#undef OFS_DECLARE_POINTER

  // Throws NativeError naming the first missing symbol.
  void bind(const DynLib& lib);

  // "cudnnConvolutionForward: CUDNN_STATUS_BAD_PARAM (…) [step 3 conv]" on failure.
  void check(cudnnStatus_t status, const char* call, const std::string& where = std::string()) const;
};

// Library file names, newest first, and cuDNN 9's sub-libraries, in dependency order.
extern const char* const kCudnnLibraryNames[];
extern const char* const kCudnnSubLibraries[];

}  // namespace ofs
