// The one place that talks to the dynamic loader (after Triton's shared_library.h): cuDNN and cuBLAS are
// opened at run time so the addon builds and loads where neither is installed, and says which directories
// it searched when they are missing.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace ofs {

class DynLib {
 public:
  // Tries `names` in each of `dirs`, then each bare name (ld.so's own search: RUNPATH, ld.so.cache).
  // Returns null and fills `why` with every attempt's dlerror() when nothing opens. `dependencies` are opened
  // first from the directory where a candidate was found (libcublasLt beside libcublas).
  static std::unique_ptr<DynLib> open(const std::vector<std::string>& names, const std::vector<std::string>& dirs,
                                      std::string* why, const std::vector<std::string>& dependencies = {});

  DynLib(const DynLib&) = delete;
  DynLib& operator=(const DynLib&) = delete;
  // Never dlclose: CUDA libraries register atexit handlers and unloading them early crashes at exit.
  ~DynLib() = default;

  // Throws NativeError naming the library and the symbol when it is absent.
  void* symbol(const char* name) const;
  const std::string& path() const { return path_; }
  // The directory the library was found in ("" when ld.so found it by bare name).
  const std::string& dir() const { return dir_; }

  // Opens siblings that the library itself loads lazily (cuDNN 9's sub-libraries), from the same directory,
  // so its own dlopen-by-soname finds them loaded. Failures are ignored: the library reports them itself.
  void preloadSiblings(const std::vector<std::string>& names) const;

 private:
  DynLib(void* handle, std::string path, std::string dir) : handle_(handle), path_(std::move(path)), dir_(std::move(dir)) {}
  void* handle_;
  std::string path_;
  std::string dir_;
};

// OFSERVE_CUDA_LIBS (colon-separated), then LD_LIBRARY_PATH, in that order, empty entries dropped.
std::vector<std::string> cudaLibrarySearchDirs();

}  // namespace ofs
