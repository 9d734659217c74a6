#include "model/gpu_library_prefetch.h"

#include "core/log.h"
#include "core/step_timer.h"

#include <dlfcn.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14; older kernels answer EINVAL and we touch pages instead
#endif

namespace upscaled::model {
namespace {

namespace fs = std::filesystem;

// The sub-libraries a forward convolution goes through (cuDNN 9 splits itself by job; the
// runtime-compiled engines and the RNN/attention library are left to load on demand: the
// first pulls in NVRTC and neither is used by the networks here).
constexpr const char* kSubLibraries[] = {"libcudnn_graph", "libcudnn_ops", "libcudnn_cnn",
                                         "libcudnn_engines_precompiled", "libcudnn_heuristic"};

struct LoadedObjects {
  std::vector<std::string> paths;
};

int collect_paths(dl_phdr_info* info, size_t, void* data) {
  if (info->dlpi_name && *info->dlpi_name) static_cast<LoadedObjects*>(data)->paths.emplace_back(info->dlpi_name);
  return 0;
}

std::vector<std::string> loaded_paths() {
  LoadedObjects objects;
  dl_iterate_phdr(collect_paths, &objects);
  return std::move(objects.paths);
}

struct Segments {
  std::string path;
  std::vector<std::pair<char*, size_t>> ranges;  // read-only PT_LOAD segments, page-aligned
};

int collect_segments(dl_phdr_info* info, size_t, void* data) {
  auto* s = static_cast<Segments*>(data);
  if (!info->dlpi_name || s->path != info->dlpi_name) return 0;
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& h = info->dlpi_phdr[i];
    // Writable segments are left alone: populating them for reading would only map pages
    // that the loader's relocations already touched or that copy on write later.
    if (h.p_type != PT_LOAD || (h.p_flags & PF_W) || h.p_memsz == 0) continue;
    const uintptr_t begin = (info->dlpi_addr + h.p_vaddr) & ~(page - 1);
    const uintptr_t end = (info->dlpi_addr + h.p_vaddr + h.p_memsz + page - 1) & ~(page - 1);
    s->ranges.emplace_back(reinterpret_cast<char*>(begin), end - begin);
  }
  return 1;
}

// Maps the object's read-only pages now; returns the bytes covered.
size_t populate(const std::string& path) {
  Segments s{path, {}};
  dl_iterate_phdr(collect_segments, &s);
  size_t bytes = 0;
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  for (const auto& [base, length] : s.ranges) {
    if (madvise(base, length, MADV_POPULATE_READ) != 0) {
      if (errno != EINVAL) continue;
      // A kernel without MADV_POPULATE_READ: one read per page does the same, slower.
      for (size_t off = 0; off < length; off += page) (void)*static_cast<volatile const char*>(base + off);
    }
    bytes += length;
  }
  return bytes;
}

// "/x/libcudnn.so.9" → ("/x", ".so.9"): where the sub-libraries are and the suffix they share.
bool find_cudnn(std::string& dir, std::string& suffix) {
  for (const std::string& p : loaded_paths()) {
    const fs::path path(p);
    const std::string name = path.filename().string();
    if (name.rfind("libcudnn.so", 0) != 0) continue;
    dir = path.parent_path().string();
    suffix = name.substr(std::strlen("libcudnn"));
    return true;
  }
  return false;
}

std::string prefetch_mode() {
  const char* env = std::getenv("UPSCALED_LIBRARY_PREFETCH");
  return env && *env ? env : "populate";
}

void prefetch(const std::string& mode) {
  std::string dir, suffix;
  if (!find_cudnn(dir, suffix)) return;
  StepTimer steps;
  size_t populated = 0;
  for (const char* lib : kSubLibraries) {
    std::string path = (fs::path(dir) / (lib + suffix)).string();
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      // libcudnn.so.9.19.0 next to libcudnn_cnn.so.9: fall back to the major version.
      const std::string major = suffix.substr(0, suffix.find('.', 4));
      path = (fs::path(dir) / (lib + major)).string();
      if (!fs::exists(path, ec)) continue;
    }
    // Never closed: cuDNN keeps these loaded for the process's life anyway, and a handle of
    // ours only adds a reference.
    if (!dlopen(path.c_str(), RTLD_LAZY | RTLD_LOCAL)) {
      log::debug(log::cat("library prefetch: ", path, ": ", dlerror()));
      continue;
    }
    if (mode == "populate") populated += populate(path);
    steps.step(lib);
  }
  log::debug(
      log::cat("library prefetch (", mode, ", ", populated >> 20, " MiB mapped from ", dir, "): ", steps.text()));
}

}  // namespace

GpuLibraryPrefetch::GpuLibraryPrefetch(bool wanted) {
  if (!wanted) return;
  const std::string mode = prefetch_mode();
  if (mode == "0") return;
  thread_ = std::thread([mode] {
    try {
      prefetch(mode);
    } catch (const std::exception& e) {
      log::debug(log::cat("library prefetch failed (cuDNN loads its libraries itself): ", e.what()));
    }
  });
}

GpuLibraryPrefetch::~GpuLibraryPrefetch() {
  if (thread_.joinable()) thread_.join();
}

std::string loaded_cudnn_libraries() {
  std::string names;
  for (const std::string& p : loaded_paths()) {
    const std::string name = fs::path(p).filename().string();
    if (name.rfind("libcudnn", 0) == 0 || name.rfind("libnvrtc", 0) == 0) names += (names.empty() ? "" : ", ") + name;
  }
  return names;
}

}  // namespace upscaled::model
