// What the whole process shares: cuDNN and cuBLAS opened and bound once, and the device list.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cublas_api.h"
#include "cudnn_api.h"
#include "dynlib.h"

namespace ofs {

struct GpuLibraries {
  std::unique_ptr<DynLib> cudnnLib;
  std::unique_ptr<DynLib> cublasLib;
  CudnnApi cudnn;
  CublasApi cublas;
};

// Opens and binds both libraries on first success and keeps them for the process; a failure is not cached
// (a later call may find libraries installed since). Throws NativeError saying what was searched.
const GpuLibraries& gpuLibraries();

struct DeviceInfo {
  int ordinal;
  std::string name;
  size_t totalMemoryBytes;
  int major;
  int minor;
};

// Throws NativeError starting with "cudaGetDeviceCount" when no device or driver is usable.
std::vector<DeviceInfo> listDevices();

}  // namespace ofs
