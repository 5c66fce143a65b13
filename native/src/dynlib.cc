#include "dynlib.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>

#include "native_error.h"

namespace ofs {

namespace {

void splitInto(const char* list, std::vector<std::string>* out) {
  if (list == nullptr) return;
  std::string all(list);
  size_t start = 0;
  while (start <= all.size()) {
    size_t end = all.find(':', start);
    if (end == std::string::npos) end = all.size();
    if (end > start) out->push_back(all.substr(start, end - start));
    start = end + 1;
  }
}

std::string lastDlError() {
  const char* e = dlerror();
  return e ? e : "unknown dlopen error";
}

}  // namespace

std::vector<std::string> cudaLibrarySearchDirs() {
  std::vector<std::string> dirs;
  splitInto(std::getenv("OFSERVE_CUDA_LIBS"), &dirs);
  splitInto(std::getenv("LD_LIBRARY_PATH"), &dirs);
  return dirs;
}

std::unique_ptr<DynLib> DynLib::open(const std::vector<std::string>& names, const std::vector<std::string>& dirs,
                                     std::string* why, const std::vector<std::string>& dependencies) {
  std::string failures;
  for (const std::string& dir : dirs) {
    for (const std::string& name : names) {
      std::string path = dir + "/" + name;
      // A file that is absent is the common case; only report the ones that exist but failed to load. (Testing
      // dlerror() for "No such file" instead would also hide a present library whose dependency is missing.)
      if (access(path.c_str(), F_OK) != 0) continue;
      // The library's own DT_NEEDED siblings, from its directory: the wheels do not promise a $ORIGIN RUNPATH,
      // and ld.so then finds an already-loaded soname. Failures surface as the library's own dlopen error.
      for (const std::string& dependency : dependencies) {
        std::string depPath = dir + "/" + dependency;
        if (access(depPath.c_str(), F_OK) == 0 && dlopen(depPath.c_str(), RTLD_NOW | RTLD_LOCAL) == nullptr) dlerror();
      }
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle != nullptr) return std::unique_ptr<DynLib>(new DynLib(handle, path, dir));
      failures += "; " + lastDlError();
    }
  }
  for (const std::string& name : names) {
    void* handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle != nullptr) return std::unique_ptr<DynLib>(new DynLib(handle, name, ""));
    failures += "; " + lastDlError();
  }
  if (why != nullptr) {
    std::string searched;
    for (const std::string& dir : dirs) searched += (searched.empty() ? "" : ":") + dir;
    *why = "searched OFSERVE_CUDA_LIBS and LD_LIBRARY_PATH (" + (searched.empty() ? std::string("both empty") : searched) +
           ") and the system paths" + failures;
  }
  return nullptr;
}

void* DynLib::symbol(const char* name) const {
  dlerror();
  void* sym = dlsym(handle_, name);
  if (sym == nullptr) throw NativeError("dlsym: " + std::string(name) + " not found in " + path_ + " (" + lastDlError() + ")");
  return sym;
}

void DynLib::preloadSiblings(const std::vector<std::string>& names) const {
  if (dir_.empty()) return;
  for (const std::string& name : names) {
    std::string path = dir_ + "/" + name;
    // Deliberately leaked: see ~DynLib.
    if (dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL) == nullptr) dlerror();
  }
}

}  // namespace ofs
