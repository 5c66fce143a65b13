#include "cudnn_api.h"

#include "native_error.h"

namespace ofs {

const char* const kCudnnLibraryNames[] = {"libcudnn.so.9", nullptr};
const char* const kCudnnSubLibraries[] = {"libcudnn_graph.so.9",
                                          "libcudnn_engines_precompiled.so.9",
                                          "libcudnn_engines_runtime_compiled.so.9",
                                          "libcudnn_heuristic.so.9",
                                          "libcudnn_ops.so.9",
                                          "libcudnn_cnn.so.9",
                                          nullptr};

void CudnnApi::bind(const DynLib& lib) {
#define OFS_BIND_POINTER(ret, name, params) name = reinterpret_cast<ret(*) params>(lib.symbol(#name));
  OFS_CUDNN_FUNCTIONS(OFS_BIND_POINTER)
#undef OFS_BIND_POINTER
}

void CudnnApi::check(cudnnStatus_t status, const char* call, const std::string& where) const {
  if (status == CUDNN_STATUS_SUCCESS) return;
  std::string text = cudnnGetErrorString ? cudnnGetErrorString(status) : "unknown";
  std::string message = std::string(call) + ": " + text + " (cudnnStatus_t " + std::to_string(status) + ")";
  if (!where.empty()) message += " [" + where + "]";
  throw NativeError(message);
}

}  // namespace ofs
