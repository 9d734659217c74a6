// The NVIDIA driver through dlopen (doctor/driver_info.h).
#include "doctor/driver_info.h"

#include "kernels/device_probe.h"

#include <dlfcn.h>

#include <fstream>
#include <memory>
#include <regex>
#include <sstream>

namespace upscaled::doctor {
namespace {

struct DlCloser {
  void operator()(void* h) const {
    if (h) dlclose(h);
  }
};
using DlHandle = std::unique_ptr<void, DlCloser>;

template <typename Fn>
Fn sym(void* handle, const char* name) {
  return reinterpret_cast<Fn>(dlsym(handle, name));
}

// Driver API signatures (cuda.h), declared here so that libcuda is never linked.
using CuInit = int (*)(unsigned);
using CuDriverGetVersion = int (*)(int*);
using CuDeviceGetCount = int (*)(int*);
using CuGetErrorText = int (*)(int, const char**);
using NvmlInit = int (*)();
using NvmlShutdown = int (*)();
using NvmlGetDriverVersion = int (*)(char*, unsigned);
using NvmlGetCount = int (*)(unsigned*);

std::string cu_error(void* lib, int rc) {
  const char* name = nullptr;
  const char* text = nullptr;
  if (auto f = sym<CuGetErrorText>(lib, "cuGetErrorName")) f(rc, &name);
  if (auto f = sym<CuGetErrorText>(lib, "cuGetErrorString")) f(rc, &text);
  return std::string(name ? name : "CUDA error " + std::to_string(rc)) + (text ? std::string(": ") + text : "");
}

void read_nvml(DriverInfo& info) {
  DlHandle nvml(dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL));
  if (!nvml) return;
  auto init = sym<NvmlInit>(nvml.get(), "nvmlInit_v2");
  auto shutdown = sym<NvmlShutdown>(nvml.get(), "nvmlShutdown");
  if (!init || !shutdown || init() != 0) return;
  char version[96] = {};
  if (auto f = sym<NvmlGetDriverVersion>(nvml.get(), "nvmlSystemGetDriverVersion");
      f && f(version, sizeof version) == 0) {
    info.driver_version = version;
    info.version_source = "nvml";
  }
  unsigned count = 0;
  if (auto f = sym<NvmlGetCount>(nvml.get(), "nvmlDeviceGetCount_v2"); f && f(&count) == 0)
    info.physical_gpus = static_cast<int>(count);
  shutdown();
}

void read_proc_version(DriverInfo& info) {
  std::ifstream in("/proc/driver/nvidia/version");
  if (!in) return;
  std::stringstream text;
  text << in.rdbuf();
  static const std::regex re(R"(Kernel Module(?: for \S+)?\s+(\d+\.\d+(?:\.\d+)?))");
  std::smatch m;
  const std::string s = text.str();
  if (std::regex_search(s, m, re)) {
    info.driver_version = m[1].str();
    info.version_source = "/proc/driver/nvidia/version";
  }
}

}  // namespace

DriverInfo query_driver() {
  DriverInfo info;
  DlHandle lib(dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL));
  if (!lib) {
    const char* err = dlerror();
    info.load_error = err ? err : "libcuda.so.1 not found";
  } else {
    info.libcuda_loaded = true;
    auto get_version = sym<CuDriverGetVersion>(lib.get(), "cuDriverGetVersion");
    if (get_version) get_version(&info.cuda_version);
    auto init = sym<CuInit>(lib.get(), "cuInit");
    if (!init) {
      info.init_error = "libcuda.so.1 has no cuInit";
    } else if (int rc = init(0); rc != 0) {
      info.init_error = cu_error(lib.get(), rc);
    } else if (auto count = sym<CuDeviceGetCount>(lib.get(), "cuDeviceGetCount")) {
      if (int rc2 = count(&info.device_count); rc2 != 0) info.init_error = cu_error(lib.get(), rc2);
    }
  }
  read_nvml(info);
  if (info.driver_version.empty()) read_proc_version(info);
  return info;
}

std::string min_driver_for_cuda(int cuda_version) {
  // Minimum Linux x86_64 driver per CUDA toolkit (NVIDIA CUDA Toolkit release notes,
  // "CUDA Toolkit and Corresponding Driver Versions").
  struct Row {
    int cuda;
    const char* driver;
  };
  static constexpr Row table[] = {
      {11000, "450.36.06"}, {11010, "455.23"},    {11020, "460.27.03"}, {11030, "465.19.01"}, {11040, "470.42.01"},
      {11050, "495.29.05"}, {11060, "510.39.01"}, {11070, "515.43.04"}, {11080, "520.61.05"}, {12000, "525.60.13"},
      {12010, "530.30.02"}, {12020, "535.54.03"}, {12030, "545.23.06"}, {12040, "550.54.14"}, {12050, "555.42.02"},
      {12060, "560.28.03"}, {12080, "570.26"},    {12090, "575.51.03"}, {13000, "580.65.06"},
  };
  const Row* best = nullptr;
  for (const auto& r : table)
    if (r.cuda <= cuda_version) best = &r;
  return best && best->cuda / 1000 == cuda_version / 1000 ? best->driver : "";
}

Check driver_check(const DriverInfo& d, int binary_cuda, int torch_cuda) {
  using kernels::cuda_version_text;
  Check c = make_check("driver", "driver", Status::ok, "");
  c.details["loaded"] = d.libcuda_loaded;
  c.details["driver_version"] = d.driver_version;
  c.details["cuda_version"] = cuda_version_text(d.cuda_version);
  c.details["binary_cuda"] = cuda_version_text(binary_cuda);
  c.details["torch_cuda"] = cuda_version_text(torch_cuda);
  c.details["device_count"] = d.device_count;
  c.details["physical_gpus"] = d.physical_gpus;
  c.details["init_error"] = d.init_error;
  if (!d.libcuda_loaded) {
    c.status = Status::warn;
    c.summary = "no NVIDIA driver (libcuda.so.1: " + d.load_error + "): every stage runs on the CPU";
    c.action = "on a GPU machine install the NVIDIA driver" +
               (binary_cuda ? " (>= " + min_driver_for_cuda(binary_cuda) + " for this build's CUDA " +
                                  cuda_version_text(binary_cuda) + ")"
                            : std::string()) +
               "; on a CPU-only machine nothing to do";
    return c;
  }
  const std::string version = d.driver_version.empty() ? "unknown version" : d.driver_version;
  c.summary = "NVIDIA driver " + version + ", supports CUDA " + cuda_version_text(d.cuda_version);
  if (!d.init_error.empty()) {
    c.summary += "; cuInit: " + d.init_error;
    c.status = Status::warn;
    c.action = d.init_error.find("NO_DEVICE") != std::string::npos
                   ? "no GPU visible: check CUDA_VISIBLE_DEVICES and that /dev/nvidia* exist in this container"
                   : "the driver failed to start: check dmesg and that the kernel module matches the driver (reboot "
                     "after upgrades)";
  }
  // The driver must support the CUDA versions of this binary and of libtorch. Same major
  // version: CUDA minor-version compatibility runs most code, but PTX newer than the driver
  // cannot be JIT-compiled, so warn. Older major version: nothing runs, fail.
  struct Need {
    const char* who;
    int cuda;
  };
  std::string fixes;
  for (const Need n : {Need{"this binary", binary_cuda}, Need{"libtorch", torch_cuda}}) {
    if (n.cuda <= 0 || d.cuda_version >= n.cuda) continue;
    const bool major_too_old = d.cuda_version / 1000 < n.cuda / 1000;
    if (major_too_old)
      c.status = Status::fail;
    else if (c.status == Status::ok)
      c.status = Status::warn;
    c.summary += std::string("; ") + n.who + " was built for CUDA " + cuda_version_text(n.cuda) +
                 (major_too_old ? " (too new for this driver)" : " (minor-version compatibility only)");
    const std::string min_driver = min_driver_for_cuda(n.cuda);
    fixes += std::string(fixes.empty() ? "" : "; ") + "install NVIDIA driver >= " +
             (min_driver.empty() ? "the one for CUDA " + cuda_version_text(n.cuda)
                                 : min_driver + " (R" + min_driver.substr(0, 3) + " branch)");
    if (std::string(n.who) == "libtorch")
      fixes += " or use a libtorch built for CUDA <= " + cuda_version_text(d.cuda_version) +
               " (https://download.pytorch.org/libtorch/cuXYZ)";
    else
      fixes += " or rebuild upscaled with a CUDA toolkit <= " + cuda_version_text(d.cuda_version);
  }
  if (!fixes.empty()) c.action = fixes;
  return c;
}

}  // namespace upscaled::doctor
