// GPU, libtorch and codec report lines (doctor/gpu_checks.h).
#include "doctor/gpu_checks.h"

#include <cstdio>

namespace upscaled::doctor {
namespace {

using kernels::cuda_version_text;

std::string gib(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

}  // namespace

std::string cudnn_version_text(long v) {
  if (v <= 0) return "none";
  // cuDNN 9 encodes major*10000 + minor*100 + patch; cuDNN 8 major*1000 + minor*100 + patch.
  const long major = v >= 90000 ? v / 10000 : v / 1000;
  const long rest = v >= 90000 ? v % 10000 : v % 1000;
  return std::to_string(major) + "." + std::to_string(rest / 100) + "." + std::to_string(rest % 100);
}

std::vector<Check> gpu_checks(const kernels::DeviceProbe& probe, const DriverInfo& driver) {
  std::vector<Check> out;
  Check all = make_check("gpu", "gpu", Status::ok, "");
  all.details["built_with_cuda"] = probe.built_with_cuda;
  all.details["runtime_cuda"] = cuda_version_text(probe.runtime_version);
  all.details["linked_runtime_cuda"] = cuda_version_text(probe.linked_runtime_version);
  all.details["device_count"] = probe.device_count;
  all.details["compiled_architectures"] = probe.compiled_architectures;
  all.details["error"] = probe.error;
  if (!probe.built_with_cuda) {
    all.status = Status::warn;
    all.summary = "this build has no CUDA kernels: preprocessing runs on the CPU";
    all.action = "rebuild with the CUDA toolkit installed (cmake -DUPSCALED_CUDA=ON)";
    out.push_back(std::move(all));
    return out;
  }
  if (probe.device_count == 0) {
    all.status = Status::warn;
    all.summary = "no GPU visible to the CUDA runtime " + cuda_version_text(probe.linked_runtime_version) + " (" +
                  probe.error + ")";
    all.action = driver.libcuda_loaded
                     ? "check CUDA_VISIBLE_DEVICES and that /dev/nvidia* are reachable (containers: --gpus all)"
                     : "";
    out.push_back(std::move(all));
    return out;
  }
  all.summary = std::to_string(probe.device_count) + " GPU(s), CUDA runtime " +
                cuda_version_text(probe.linked_runtime_version) + " (built with " +
                cuda_version_text(probe.runtime_version) + "), kernels for sm " + probe.compiled_architectures;
  out.push_back(std::move(all));
  for (const auto& d : probe.devices) {
    const std::string sm = std::to_string(d.cc_major) + std::to_string(d.cc_minor);
    Check c = make_check("gpu." + std::to_string(d.index), "gpu", Status::ok, "");
    c.details["name"] = d.name;
    c.details["compute_capability"] = std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor);
    c.details["total_bytes"] = d.total_bytes;
    c.details["free_bytes"] = d.free_bytes;
    c.details["kernel_ok"] = d.kernel_ok;
    c.details["kernel_binary"] = d.binary_version;
    c.details["kernel_ptx"] = d.ptx_version;
    c.details["kernel_error"] = d.kernel_error;
    c.summary = "GPU " + std::to_string(d.index) + ": " + d.name + ", sm_" + sm + ", " + gib(d.total_bytes) + " (" +
                gib(d.free_bytes) + " free)";
    if (d.kernel_ok) {
      c.summary += d.binary_version == d.cc_major * 10 + d.cc_minor
                       ? ", kernels run (SASS sm_" + std::to_string(d.binary_version) + ")"
                       : ", kernels run (PTX " + std::to_string(d.ptx_version) + " JIT-compiled)";
    } else {
      c.status = Status::fail;
      c.summary += ", kernels do not run: " + d.kernel_error;
      c.action = d.kernel_error.find("NoKernelImage") != std::string::npos ||
                         d.kernel_error.find("InvalidDeviceFunction") != std::string::npos
                     ? "rebuild upscaled for this GPU: cmake -DCMAKE_CUDA_ARCHITECTURES=\"" +
                           probe.compiled_architectures + ";" + sm + "\""
                     : "check the driver (nvidia-smi) and that no other process holds the GPU in exclusive mode";
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<Check> torch_checks(const TorchFacts& t, const DriverInfo& driver) {
  std::vector<Check> out;
  Check c = make_check("torch", "torch", Status::ok, "");
  c.details["linked"] = t.linked;
  c.details["version"] = t.version;
  c.details["built_with_cuda"] = t.built_with_cuda;
  c.details["cuda_version"] = cuda_version_text(t.cuda_version);
  c.details["cuda_available"] = t.cuda_available;
  c.details["device_count"] = t.device_count;
  c.details["cudnn_available"] = t.cudnn_available;
  c.details["cudnn_version"] = cudnn_version_text(t.cudnn_version);
  if (!t.linked) {
    c.status = Status::warn;
    c.summary = "this build has no libtorch: only the classic resamplers (lanczos, bicubic, bilinear) are available";
    c.action = "rebuild with libtorch (cmake -DUPSCALED_TORCH=ON -DCMAKE_PREFIX_PATH=<libtorch>)";
    out.push_back(std::move(c));
    return out;
  }
  c.summary = "libtorch " + t.version;
  if (!t.error.empty()) {
    c.status = Status::fail;
    c.summary += ": query failed: " + t.error;
    c.action = "reinstall libtorch; its libraries do not load cleanly";
  } else if (!t.built_with_cuda) {
    c.status = Status::warn;
    c.summary += " (CPU build): networks run on the CPU";
    c.action = driver.libcuda_loaded
                   ? "link a CUDA build of libtorch (https://pytorch.org, libtorch cuXYZ); with one, make sure "
                     "libtorch_cuda.so is linked (-Wl,--no-as-needed)"
                   : "";
  } else {
    c.summary += " for CUDA " + cuda_version_text(t.cuda_version) + ", cuDNN " + cudnn_version_text(t.cudnn_version);
    if (!t.cuda_available) {
      c.status = Status::warn;
      c.summary += ", but torch::cuda::is_available() is false: networks run on the CPU";
      c.action =
          driver.libcuda_loaded && driver.cuda_version < t.cuda_version
              ? "the driver supports only CUDA " + cuda_version_text(driver.cuda_version) + ": see the driver line"
              : "check the driver and CUDA_VISIBLE_DEVICES (see the lines above)";
    } else if (!t.cudnn_available) {
      c.status = Status::warn;
      c.summary += ", " + std::to_string(t.device_count) + " GPU(s), but cuDNN is not available (slow convolutions)";
      c.action = "install the cuDNN libraries libtorch was built with (libcudnn.so." +
                 std::to_string(t.cudnn_version >= 90000 ? t.cudnn_version / 10000 : t.cudnn_version / 1000) +
                 ") or use the libtorch archive that bundles them";
    } else {
      c.summary += ", " + std::to_string(t.device_count) + " GPU(s), cuDNN available";
    }
  }
  out.push_back(std::move(c));
  if (t.conv_run) {
    Check conv = make_check("torch.conv", "torch", t.conv_ok ? Status::ok : Status::fail, "");
    conv.details["device"] = t.conv_device;
    conv.details["cudnn"] = t.conv_cudnn;
    conv.details["error"] = t.conv_error;
    conv.summary = "3x3 convolution on " + t.conv_device + (t.conv_cudnn ? " (cuDNN)" : "") +
                   (t.conv_ok ? ": matches the CPU" : ": " + t.conv_error);
    if (!t.conv_ok)
      conv.action = t.conv_error.find("no kernel image") != std::string::npos
                        ? "this libtorch carries no code for the GPU: use a libtorch build that lists its sm in "
                          "torch::cuda arch list (newer cuXYZ build)"
                        : "the GPU stack fails end to end: check the driver, cuDNN and free GPU memory";
    out.push_back(std::move(conv));
  }
  return out;
}

std::vector<Check> codec_checks(const CodecProbes& probes, const DriverInfo& driver) {
  std::vector<Check> out;
  auto add = [&](const CodecProbe& p, const std::string& kind) {
    Check c = make_check(kind + "." + p.codec, kind, p.ok ? Status::ok : Status::warn, "");
    c.details["ffmpeg"] = p.ffmpeg;
    c.details["available"] = p.ok;
    c.details["reason"] = p.reason;
    c.details["cached"] = probes.from_cache;
    const std::string what = kind == "nvdec" ? "NVDEC " + p.codec : "NVENC " + p.codec;
    if (p.ok) {
      c.summary = what + ": session opened (" + p.ffmpeg + ")";
    } else {
      c.summary = what + " absent: " + p.reason;
      c.action = !driver.libcuda_loaded ? ""
                 : kind == "nvdec"
                     ? "decoding of " + p.codec + " runs on the CPU"
                     : "encoding runs on the CPU (libx264/libx265); this GPU or FFmpeg offers no " + p.codec;
    }
    out.push_back(std::move(c));
  };
  for (const auto& p : probes.nvdec) add(p, "nvdec");
  for (const auto& p : probes.nvenc) add(p, "nvenc");
  return out;
}

}  // namespace upscaled::doctor
