// Stage decisions (doctor/plan.h).
#include "doctor/plan.h"

#include "core/log.h"
#include "doctor/ffmpeg_checks.h"

#include <algorithm>

namespace upscaled::doctor {
namespace {

StageDecision decision(const char* stage, bool gpu, const char* gpu_device, bool wanted, std::string reason) {
  StageDecision d;
  d.stage = stage;
  d.gpu = gpu;
  d.device = gpu ? gpu_device : "cpu";
  d.fallback = wanted && !gpu;
  d.reason = std::move(reason);
  return d;
}

// Why the GPU cannot be used at all; empty when GPU 0 ran the probe kernel.
std::string gpu_unusable_reason(const PlanInputs& in) {
  if (in.device == "cpu") return "--device cpu";
  if (!in.driver->libcuda_loaded) return "no NVIDIA driver (libcuda.so.1 not loadable)";
  if (!in.devices->built_with_cuda) return "this build has no CUDA kernels";
  if (!in.driver->init_error.empty()) return "the driver found no usable GPU (" + in.driver->init_error + ")";
  if (in.devices->devices.empty())
    return "no GPU visible to the CUDA runtime" + (in.devices->error.empty() ? "" : " (" + in.devices->error + ")");
  const auto& d = in.devices->devices.front();
  if (!d.kernel_ok) return "this binary's kernels do not run on GPU 0 " + d.name + " (" + d.kernel_error + ")";
  return {};
}

// NVDEC feeds the GPU frame path (pipeline/nvdec_session.h): it is used when the colour
// conversion and the network run on the GPU and NVDEC opened a session for the codec. The
// job decides per file (profile, bit depth, chroma) and logs its own line; a CPU decode
// counts as a fallback only for --decode nvdec.
StageDecision decide_decode(const PlanInputs& in, const StagePlan& plan) {
  const bool required = in.decode == "nvdec";
  if (in.decode == "cpu") return decision("decode", false, "nvdec", false, "--decode cpu: libavcodec on the CPU");
  std::string codecs;
  for (const auto& c : plan.nvdec_codecs) codecs += (codecs.empty() ? "" : ", ") + c;
  std::string why;
  if (!plan.preprocess.gpu || !plan.infer.gpu)
    why = "NVDEC feeds the GPU frame path, which does not run (" +
          (!plan.preprocess.gpu ? plan.preprocess.reason : plan.infer.reason) + ")";
  else if (codecs.empty())
    why = "NVDEC opened no decoder session on this GPU";
  else if (!in.input_codec.empty() && !plan.nvdec_supports(in.input_codec))
    why = "NVDEC has no " + in.input_codec + " decoder here (it has " + codecs + ")";
  if (!why.empty()) return decision("decode", false, "nvdec", required, "libavcodec on the CPU: " + why);
  return decision("decode", true, "nvdec", required,
                  in.input_codec.empty() ? "NVDEC for " + codecs + " (4:2:0, 8/10-bit; other inputs decode on the CPU)"
                                         : "NVDEC for " + in.input_codec + "; frames stay on the GPU");
}

}  // namespace

bool StagePlan::any_fallback() const {
  for (const auto* s : stages())
    if (s->fallback) return true;
  return false;
}

bool StagePlan::nvdec_supports(const std::string& codec) const {
  return std::find(nvdec_codecs.begin(), nvdec_codecs.end(), codec) != nvdec_codecs.end();
}

StagePlan decide_plan(const PlanInputs& in) {
  StagePlan plan;
  const bool wanted = in.device != "cpu";
  const std::string no_gpu = gpu_unusable_reason(in);
  const bool gpu_ok = no_gpu.empty();
  if (gpu_ok) plan.cuda_device = in.devices->devices.front().index;
  const std::string gpu_name = gpu_ok ? in.devices->devices.front().name : "";

  // preprocess: this binary's own CUDA kernels (colour conversion, resize).
  plan.preprocess =
      decision("preprocess", gpu_ok, "cuda", wanted,
               gpu_ok ? "CUDA kernels run on GPU " + std::to_string(plan.cuda_device) + " " + gpu_name : no_gpu);

  // infer: the network through libtorch; the classic resamplers are CPU code by design.
  if (in.classic_model) {
    plan.infer = decision("infer", false, "cuda", false, "classic resampler: runs on the CPU by design");
  } else {
    const TorchFacts& t = *in.torch;
    std::string why;
    if (!gpu_ok)
      why = no_gpu;
    else if (!t.linked)
      why = "this build has no libtorch";
    else if (!t.built_with_cuda)
      why = "libtorch " + t.version + " is a CPU build";
    else if (!t.cuda_available)
      why = "torch::cuda::is_available() is false";
    else if (t.conv_run && !t.conv_ok)
      why = "a convolution on the GPU failed: " + t.conv_error;
    plan.infer = decision("infer", why.empty(), "cuda", wanted,
                          why.empty() ? "libtorch " + t.version + " on cuda:" + std::to_string(plan.cuda_device) +
                                            (t.cudnn_available ? " with cuDNN" : " without cuDNN")
                                      : why);
  }

  // decode: NVDEC for the codecs that opened a session.
  if (gpu_ok && in.codecs) {
    for (const auto& p : in.codecs->nvdec)
      if (p.ok) plan.nvdec_codecs.push_back(p.codec);
  }
  plan.decode = decide_decode(in, plan);

  // encode: NVENC only when an *_nvenc encoder is configured; libx264/libx265 are a choice.
  const bool nvenc_wanted = wanted && in.encoder.size() > 6 && in.encoder.ends_with("_nvenc");
  if (nvenc_wanted) {
    const CodecProbe* p = gpu_ok && in.codecs ? in.codecs->find_nvenc(in.encoder) : nullptr;
    const bool ok = p && p->ok;
    plan.encoder = ok ? in.encoder : cpu_encoder_for(in.encoder);
    plan.encode = decision("encode", ok, "nvenc", true,
                           ok ? in.encoder + " session opened"
                              : in.encoder + " unavailable (" +
                                    (p                ? p->reason
                                     : no_gpu.empty() ? "not probed"
                                                      : no_gpu) +
                                    "): " + plan.encoder + " instead");
  } else {
    plan.encoder = in.encoder;
    std::string note;
    const std::string nv = in.encoder == "libx265" ? "hevc_nvenc" : "h264_nvenc";
    if (const CodecProbe* p = gpu_ok && in.codecs ? in.codecs->find_nvenc(nv) : nullptr)
      note = p->ok ? " (" + nv + " is available)" : " (" + nv + " absent: " + p->reason + ")";
    plan.encode = decision("encode", false, "nvenc", false, in.encoder + " chosen" + note);
  }
  return plan;
}

void log_plan(const StagePlan& plan, bool quiet_when_gpu) {
  for (const auto* s : plan.stages()) {
    const std::string line =
        log::cat("stage ", s->stage, ": ", s->device, s->fallback ? " (CPU fallback: " : " (", s->reason, ")");
    if (quiet_when_gpu && !s->fallback)
      log::debug(line);
    else
      log::info(line);
  }
}

}  // namespace upscaled::doctor
