#include "gpu_runtime.h"

#include <mutex>

#include "native_error.h"

namespace ofs {

namespace {

std::vector<std::string> toVector(const char* const* names) {
  std::vector<std::string> out;
  for (; *names != nullptr; ++names) out.emplace_back(*names);
  return out;
}

std::unique_ptr<GpuLibraries> loadLibraries() {
  std::vector<std::string> dirs = cudaLibrarySearchDirs();
  auto libs = std::make_unique<GpuLibraries>();
  std::string problems;

  std::string why;
  libs->cudnnLib = DynLib::open(toVector(kCudnnLibraryNames), dirs, &why);
  if (!libs->cudnnLib) problems += "cuDNN not found: dlopen libcudnn.so.9 failed (" + why + ")";

  libs->cublasLib = DynLib::open(toVector(kCublasLibraryNames), dirs, &why, toVector(kCublasSiblings));
  if (!libs->cublasLib) {
    problems += std::string(problems.empty() ? "" : "; ") + "cuBLAS not found: dlopen libcublas.so.13 / libcublas.so.12 failed (" +
                why + ")";
  }
  if (!problems.empty()) {
    throw NativeError(problems + ". Set OFSERVE_CUDA_LIBS to the directories holding them (for a PyTorch venv: "
                                 "site-packages/nvidia/cudnn/lib and site-packages/nvidia/cu13/lib or nvidia/cublas/lib)");
  }
  libs->cudnnLib->preloadSiblings(toVector(kCudnnSubLibraries));
  libs->cudnn.bind(*libs->cudnnLib);
  libs->cublas.bind(*libs->cublasLib);
  return libs;
}

}  // namespace

const GpuLibraries& gpuLibraries() {
  static std::mutex mutex;
  static std::unique_ptr<GpuLibraries> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  if (!loaded) loaded = loadLibraries();
  return *loaded;
}

std::vector<DeviceInfo> listDevices() {
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    // The runtime leaves this error sticky for the thread; clear it so later calls report their own.
    cudaGetLastError();
    throw NativeError("cudaGetDeviceCount: " + cudaStatusText(status) +
                      ": no usable CUDA device (is the NVIDIA driver loaded and /dev/nvidia0 present?)");
  }
  if (count == 0) throw NativeError("cudaGetDeviceCount: 0 devices: no usable CUDA device");
  std::vector<DeviceInfo> devices;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    checkCuda(cudaGetDeviceProperties(&prop, i), "cudaGetDeviceProperties", "device " + std::to_string(i));
    devices.push_back(DeviceInfo{i, prop.name, prop.totalGlobalMem, prop.major, prop.minor});
  }
  return devices;
}

}  // namespace ofs
