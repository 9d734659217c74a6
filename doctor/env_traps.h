// Environment traps that silently take the GPU away or break start-up: CUDA_VISIBLE_DEVICES
// hiding every GPU, LD_LIBRARY_PATH mixing libraries of several CUDA versions, folders the
// program must write to but cannot.
//
// Contract: the parsing functions are pure (values in, verdict out) so that tests can feed
// crafted environment values; the *_check() functions read the real environment or
// filesystem. All synchronous, thread-safe, never throw.
#pragma once

#include "doctor/check.h"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace upscaled::doctor {

struct VisibleDevicesVerdict {
  bool set = false;                  // the variable exists (even when empty)
  bool hides_all = false;            // the CUDA runtime will see no device at all
  std::vector<std::string> entries;  // the entries CUDA will use (up to the first invalid one)
  std::string explanation;           // why hides_all, in words
};

// CUDA reads the comma-separated list up to the first entry that is not a device index,
// "GPU-<uuid>" or "MIG-<uuid>"; an empty list or "-1"/"none"/"NoDevFiles" first means no GPU.
VisibleDevicesVerdict parse_cuda_visible_devices(const std::optional<std::string>& value);

// physical_gpus: what NVML counts regardless of CUDA_VISIBLE_DEVICES (-1 when unknown).
Check cuda_visible_devices_check(const std::optional<std::string>& value, int physical_gpus);

struct CudaLibDir {
  std::string dir;
  std::string version;  // "12.4" from the folder name, or "12" from libcudart.so.12 in it
};

// Lists the file names in a folder (injectable for tests; empty when unreadable).
using ListDir = std::function<std::vector<std::string>(const std::string& dir)>;
std::vector<std::string> list_dir_names(const std::string& dir);

// Folders of LD_LIBRARY_PATH that hold a CUDA runtime, with their version.
std::vector<CudaLibDir> cuda_dirs_in_library_path(const std::string& value, const ListDir& list_dir);
// True when the folders disagree ("12" agrees with "12.4"; "12.4" and "12.8" disagree).
bool cuda_versions_conflict(const std::vector<CudaLibDir>& dirs);
Check ld_library_path_check(const std::optional<std::string>& value, const ListDir& list_dir);

// A folder the program writes to: ok when writable (a file was created and removed) or
// absent with a writable parent (it will be created); warn otherwise.
Check folder_check(const std::string& id, const std::string& purpose, const std::filesystem::path& dir,
                   const std::string& how_to_change);

// $UPSCALED_STATE_DIR, else $XDG_STATE_HOME/upscaled, else ~/.local/state/upscaled.
std::filesystem::path default_state_dir();
// $UPSCALED_CACHE_DIR, else $XDG_CACHE_HOME/upscaled, else ~/.cache/upscaled.
std::filesystem::path default_cache_dir();

std::optional<std::string> env_value(const char* name);

}  // namespace upscaled::doctor
