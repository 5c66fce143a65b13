// One error type for everything the addon reports to JavaScript. Messages start with the call that failed
// (binding.ts promises that), then the library's own status name and text, then where in the plan it was.
#pragma once

#include <stdexcept>
#include <string>

#include <cuda_runtime.h>

namespace ofs {

class NativeError : public std::runtime_error {
 public:
  explicit NativeError(const std::string& message) : std::runtime_error(message) {}
};

// "cudaMalloc: cudaErrorMemoryAllocation (out of memory) [conv weights]"
std::string cudaStatusText(cudaError_t status);
void checkCuda(cudaError_t status, const char* call, const std::string& where = std::string());

// After a kernel launch: launch errors surface through cudaGetLastError, not a return value.
void checkLaunch(const char* kernel, const std::string& where = std::string());

}  // namespace ofs
