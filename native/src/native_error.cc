#include "native_error.h"

namespace ofs {

std::string cudaStatusText(cudaError_t status) {
  return std::string(cudaGetErrorName(status)) + " (" + cudaGetErrorString(status) + ")";
}

void checkCuda(cudaError_t status, const char* call, const std::string& where) {
  if (status == cudaSuccess) return;
  std::string message = std::string(call) + ": " + cudaStatusText(status);
  if (!where.empty()) message += " [" + where + "]";
  throw NativeError(message);
}

void checkLaunch(const char* kernel, const std::string& where) {
  checkCuda(cudaGetLastError(), kernel, where);
}

}  // namespace ofs
