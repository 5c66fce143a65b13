// The few cuBLAS entry points the addon calls, declared here (no cuBLAS headers at build time) and bound at
// run time from libcublas.so.13 (CUDA 13) or libcublas.so.12. Prototypes and enum values follow cublas_api.h.
#pragma once

#include <string>

#include <cuda_runtime.h>
#include <library_types.h>

#include "dynlib.h"

namespace ofs {

typedef struct cublasContext* cublasHandle_t;
typedef int cublasStatus_t;
typedef int cublasOperation_t;
typedef int cublasMath_t;

constexpr cublasStatus_t CUBLAS_STATUS_SUCCESS = 0;
constexpr cublasOperation_t CUBLAS_OP_N = 0;
constexpr cublasOperation_t CUBLAS_OP_T = 1;
constexpr cublasMath_t CUBLAS_DEFAULT_MATH = 0;
constexpr cublasMath_t CUBLAS_TF32_TENSOR_OP_MATH = 3;

#define OFS_CUBLAS_FUNCTIONS(X)                                                                                      \
  X(cublasStatus_t, cublasCreate_v2, (cublasHandle_t * handle))                                                     \
  X(cublasStatus_t, cublasDestroy_v2, (cublasHandle_t handle))                                                      \
  X(cublasStatus_t, cublasSetStream_v2, (cublasHandle_t handle, cudaStream_t stream))                               \
  X(cublasStatus_t, cublasSetMathMode, (cublasHandle_t handle, cublasMath_t mode))                                  \
  X(cublasStatus_t, cublasGetProperty, (libraryPropertyType type, int* value))                                      \
  X(const char*, cublasGetStatusName, (cublasStatus_t status))                                                      \
  X(const char*, cublasGetStatusString, (cublasStatus_t status))                                                    \
  X(cublasStatus_t, cublasSgemm_v2,                                                                                 \
    (cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,                 \
     const float* alpha, const float* A, int lda, const float* B, int ldb, const float* beta, float* C, int ldc))

// cuBLAS's function table, bound once from an opened libcublas.
struct CublasApi {
#define OFS_DECLARE_POINTER(ret, name, params) ret(*name) params = nullptr;
  OFS_CUBLAS_FUNCTIONS(OFS_DECLARE_POINTER)
#undef OFS_DECLARE_POINTER

  void bind(const DynLib& lib);
  void check(cublasStatus_t status, const char* call, const std::string& where = std::string()) const;
  // CUBLAS_VERSION's encoding: major * 10000 + minor * 100 + patch.
  int version() const;
};

extern const char* const kCublasLibraryNames[];
// libcublas needs libcublasLt from its own directory.
extern const char* const kCublasSiblings[];

}  // namespace ofs
