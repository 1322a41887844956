// Loads cuDNN 9 with dlopen and resolves the baseline's entry points (kernels/cuda/cudnn_library.h).
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // the legacy convolution API's declarations

#include "kernels/cuda/cudnn_library.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <vector>

namespace y26::kernels::cuda {
namespace {

namespace fs = std::filesystem;

// cuDNN 9's libcudnn.so.9 is a shim that dlopens its sub-libraries by soname when first needed. Loaded from
// a folder the dynamic linker does not search (a Python package), those lookups would fail; loading each
// sub-library by its full path first, dependencies before dependants, makes the soname lookups find them.
constexpr const char* kSubLibraries[] = {"libcudnn_graph.so.9",       "libcudnn_engines_runtime_compiled.so.9",
                                         "libcudnn_engines_precompiled.so.9", "libcudnn_heuristic.so.9",
                                         "libcudnn_ops.so.9",          "libcudnn_cnn.so.9"};

// site-packages folders of the Pythons this machine has, where pip puts nvidia/cudnn/lib
std::vector<fs::path> python_cudnn_folders() {
  std::vector<fs::path> prefixes;
  if (const char* venv = std::getenv("VIRTUAL_ENV")) prefixes.emplace_back(venv);
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    std::string dir;
    while (std::getline(ss, dir, ':')) {
      std::error_code ec;
      if (!dir.empty() && fs::exists(fs::path(dir) / "python3", ec)) prefixes.push_back(fs::path(dir).parent_path());
    }
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/opt", ec))
    if (fs::exists(e.path() / ".venv", ec)) prefixes.push_back(e.path() / ".venv");
  prefixes.emplace_back("/usr");
  prefixes.emplace_back("/usr/local");
  std::vector<fs::path> out;
  for (const auto& prefix : prefixes) {
    for (const char* lib : {"lib", "lib64"}) {
      for (const auto& e : fs::directory_iterator(prefix / lib, ec)) {
        if (e.path().filename().string().rfind("python3", 0) != 0) continue;
        for (const char* site : {"site-packages", "dist-packages"}) {
          // nvidia/<name>/lib: nvidia/cudnn/lib as nvidia-cudnn-cu12 lays it out, or another name a later
          // wheel (cu13) may give its folder; in name order, so the search is the same on every run
          std::vector<fs::path> folders;
          for (const auto& sub : fs::directory_iterator(e.path() / site / "nvidia", ec))
            if (fs::exists(sub.path() / "lib" / "libcudnn.so.9", ec)) folders.push_back(sub.path() / "lib");
          std::sort(folders.begin(), folders.end());
          out.insert(out.end(), folders.begin(), folders.end());
        }
      }
    }
  }
  return out;
}

void* open_in(const fs::path& folder) {
  for (const char* sub : kSubLibraries) {
    std::error_code ec;
    if (fs::exists(folder / sub, ec)) dlopen((folder / sub).c_str(), RTLD_NOW | RTLD_GLOBAL);  // failures show below
  }
  return dlopen((folder / "libcudnn.so.9").c_str(), RTLD_NOW | RTLD_GLOBAL);
}

struct Loaded {
  CudnnLibrary lib;
  bool ok = false;
  std::string why;
};

Loaded load() {
  Loaded r;
  std::vector<std::string> tried;
  void* h = nullptr;
  const auto note = [&](const std::string& where) {
    const char* e = dlerror();
    tried.push_back(where + (e ? std::string(" (") + e + ")" : std::string()));
  };
  if (const char* file = std::getenv("Y26_CUDNN_LIBRARY")) {
    h = open_in(fs::path(file).parent_path());
    if (h) r.lib.path = file; else note(std::string("$Y26_CUDNN_LIBRARY=") + file);
  }
  if (!h) {
    h = dlopen("libcudnn.so.9", RTLD_NOW | RTLD_GLOBAL);
    if (h) r.lib.path = "libcudnn.so.9 (library path)"; else note("libcudnn.so.9 on the library path");
  }
  if (!h) {
    for (const auto& folder : python_cudnn_folders()) {
      h = open_in(folder);
      if (h) {
        r.lib.path = (folder / "libcudnn.so.9").string();
        break;
      }
      note(folder.string());
    }
    if (!h) tried.push_back("no python3 site-packages with nvidia/*/lib/libcudnn.so.9");
  }
  if (!h) {
    std::string s = "cuDNN 9 not found: tried ";
    for (size_t i = 0; i < tried.size(); ++i) s += (i ? "; " : "") + tried[i];
    r.why = s;
    return r;
  }
#define Y26_CUDNN_RESOLVE(name)                                                                             \
  r.lib.name = reinterpret_cast<decltype(&::name)>(dlsym(h, #name));                                       \
  if (!r.lib.name) {                                                                                        \
    r.why = r.lib.path + " lacks " #name " (cuDNN older than 9?)";                                          \
    return r;                                                                                               \
  }
  Y26_CUDNN_FUNCTIONS(Y26_CUDNN_RESOLVE)
#undef Y26_CUDNN_RESOLVE
  r.lib.version = r.lib.cudnnGetVersion();
  if (r.lib.version < 90000) {
    r.why = r.lib.path + " is cuDNN " + std::to_string(r.lib.version) + ", the baseline needs 9.x";
    return r;
  }
  r.ok = true;
  return r;
}

}  // namespace

const CudnnLibrary* cudnn_library(std::string* why) {
  static const Loaded loaded = load();  // thread-safe once; dlopen'ed libraries stay for the process
  if (!loaded.ok && why) *why = loaded.why;
  return loaded.ok ? &loaded.lib : nullptr;
}

}  // namespace y26::kernels::cuda
