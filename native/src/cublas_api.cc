#include "cublas_api.h"

#include "native_error.h"

namespace ofs {

const char* const kCublasLibraryNames[] = {"libcublas.so.13", "libcublas.so.12", nullptr};
const char* const kCublasSiblings[] = {"libcublasLt.so.13", "libcublasLt.so.12", nullptr};

void CublasApi::bind(const DynLib& lib) {
#define OFS_BIND_POINTER(ret, name, params) name = reinterpret_cast<ret(*) params>(lib.symbol(#name));
  OFS_CUBLAS_FUNCTIONS(OFS_BIND_POINTER)
#undef OFS_BIND_POINTER
}

void CublasApi::check(cublasStatus_t status, const char* call, const std::string& where) const {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  std::string name = cublasGetStatusName ? cublasGetStatusName(status) : "CUBLAS_STATUS_?";
  std::string text = cublasGetStatusString ? cublasGetStatusString(status) : "unknown";
  std::string message = std::string(call) + ": " + name + " (" + text + ")";
  if (!where.empty()) message += " [" + where + "]";
  throw NativeError(message);
}

int CublasApi::version() const {
  int major = 0, minor = 0, patch = 0;
  check(cublasGetProperty(MAJOR_VERSION, &major), "cublasGetProperty");
  check(cublasGetProperty(MINOR_VERSION, &minor), "cublasGetProperty");
  check(cublasGetProperty(PATCH_LEVEL, &patch), "cublasGetProperty");
  return major * 10000 + minor * 100 + patch;
}

}  // namespace ofs
