// Stage decisions and the driver verdict on crafted facts (GPU cases included: the
// decision logic needs no GPU to be tested).
#include "doctor/plan.h"
#include "doctor/driver_info.h"
#include "doctor/gpu_checks.h"

#include <gtest/gtest.h>

using namespace upscaled::doctor;
using upscaled::kernels::DeviceInfo;
using upscaled::kernels::DeviceProbe;

namespace {

struct Facts {
  DriverInfo driver;
  DeviceProbe devices;
  TorchFacts torch;
  CodecProbes codecs;

  PlanInputs inputs(const std::string& encoder = "libx264", bool classic = false) const {
    PlanInputs in;
    in.classic_model = classic;
    in.encoder = encoder;
    in.driver = &driver;
    in.devices = &devices;
    in.torch = &torch;
    in.codecs = &codecs;
    return in;
  }
};

// An H100 as the probes would describe it: NVDEC works, NVENC does not exist.
Facts h100() {
  Facts f;
  f.driver.libcuda_loaded = true;
  f.driver.cuda_version = 13000;
  f.driver.driver_version = "580.65.06";
  f.driver.device_count = 1;
  f.devices.built_with_cuda = true;
  f.devices.runtime_version = 13000;
  f.devices.device_count = 1;
  DeviceInfo d;
  d.name = "NVIDIA H100 80GB HBM3";
  d.cc_major = 9;
  d.kernel_ok = true;
  d.binary_version = 90;
  f.devices.devices.push_back(d);
  f.torch = {true, "2.11.0", true, 12080, true, 1, true, 91002, "", true, true, "cuda:0", true, ""};
  for (const auto& c : nvdec_codecs()) f.codecs.nvdec.push_back({c, c + "_cuvid", true, ""});
  for (const auto& e : nvenc_encoders())
    f.codecs.nvenc.push_back({e, e, false, "OpenEncodeSessionEx failed: unsupported device (2): (no details)"});
  return f;
}

Facts no_driver() {
  Facts f;
  f.driver.load_error = "libcuda.so.1: cannot open shared object file: No such file or directory";
  f.devices.built_with_cuda = true;
  f.devices.error = "cudaErrorInsufficientDriver: CUDA driver version is insufficient for CUDA runtime version";
  f.torch.linked = true;
  f.torch.version = "1.13.0";
  return f;
}

}  // namespace

TEST(Plan, NoDriverFallsBackToCpuEverywhere) {
  const auto f = no_driver();
  const auto plan = decide_plan(f.inputs("libx264", false));
  for (const auto* s : plan.stages()) {
    EXPECT_EQ(s->device, "cpu") << s->stage;
    EXPECT_FALSE(s->gpu);
  }
  EXPECT_FALSE(plan.decode.fallback);  // --decode auto: CPU decoding is not a fallback
  EXPECT_TRUE(plan.preprocess.fallback);
  EXPECT_TRUE(plan.infer.fallback);
  EXPECT_FALSE(plan.encode.fallback);  // libx264 was chosen, not fallen back to
  EXPECT_TRUE(plan.any_fallback());
  EXPECT_NE(plan.preprocess.reason.find("no NVIDIA driver"), std::string::npos) << plan.preprocess.reason;
  EXPECT_EQ(plan.cuda_device, -1);
}

TEST(Plan, DeviceCpuIsAChoiceNotAFallback) {
  const auto f = h100();
  auto in = f.inputs();
  in.device = "cpu";
  const auto plan = decide_plan(in);
  EXPECT_FALSE(plan.any_fallback());
  EXPECT_EQ(plan.infer.device, "cpu");
}

TEST(Plan, H100UsesGpuButEncodesOnCpu) {
  const auto f = h100();
  auto plan = decide_plan(f.inputs("libx264"));
  EXPECT_EQ(plan.decode.device, "nvdec");  // the GPU frame path runs: NVDEC feeds it
  EXPECT_TRUE(plan.decode.gpu);
  EXPECT_NE(plan.decode.reason.find("NVDEC for h264, hevc"), std::string::npos) << plan.decode.reason;
  EXPECT_EQ(plan.preprocess.device, "cuda");
  EXPECT_EQ(plan.infer.device, "cuda");
  EXPECT_EQ(plan.encode.device, "cpu");
  EXPECT_FALSE(plan.any_fallback());
  EXPECT_NE(plan.encode.reason.find("unsupported device"), std::string::npos) << plan.encode.reason;
  EXPECT_TRUE(plan.nvdec_supports("hevc"));

  // Asking for NVENC on a GPU without it: libx264 instead, and that is a fallback.
  plan = decide_plan(f.inputs("h264_nvenc"));
  EXPECT_EQ(plan.encode.device, "cpu");
  EXPECT_TRUE(plan.encode.fallback);
  EXPECT_EQ(plan.encoder, "libx264");
  EXPECT_NE(plan.encode.reason.find("unsupported device"), std::string::npos);
}

TEST(Plan, DecodeUsesNvdecForTheInputCodecWhenItOpenedASession) {
  auto f = h100();
  f.codecs.nvdec[3].ok = false;  // av1
  f.codecs.nvdec[3].reason = "Codec av1 is not supported";
  auto in = f.inputs();
  in.input_codec = "hevc";
  auto plan = decide_plan(in);
  EXPECT_EQ(plan.decode.device, "nvdec");
  EXPECT_NE(plan.decode.reason.find("NVDEC for hevc"), std::string::npos) << plan.decode.reason;

  in.input_codec = "av1";
  plan = decide_plan(in);
  EXPECT_EQ(plan.decode.device, "cpu");
  EXPECT_FALSE(plan.decode.fallback);  // auto: not counted by --require-gpu
  EXPECT_NE(plan.decode.reason.find("no av1 decoder"), std::string::npos) << plan.decode.reason;

  in.decode = "nvdec";  // required: the same CPU decode is now a fallback
  plan = decide_plan(in);
  EXPECT_EQ(plan.decode.device, "cpu");
  EXPECT_TRUE(plan.decode.fallback);
  EXPECT_TRUE(plan.any_fallback());
}

TEST(Plan, DecodeStaysOnTheCpuWithoutTheGpuFramePathOrWhenAsked) {
  const auto f = h100();
  auto in = f.inputs("libx264", true);  // classic resampler: frames are converted on the CPU
  auto plan = decide_plan(in);
  EXPECT_EQ(plan.decode.device, "cpu");
  EXPECT_NE(plan.decode.reason.find("GPU frame path"), std::string::npos) << plan.decode.reason;

  in = f.inputs();
  in.decode = "cpu";
  plan = decide_plan(in);
  EXPECT_EQ(plan.decode.device, "cpu");
  EXPECT_FALSE(plan.decode.fallback);
  EXPECT_NE(plan.decode.reason.find("--decode cpu"), std::string::npos) << plan.decode.reason;
}

TEST(Plan, KernelImageMissingOrCpuTorch) {
  auto f = h100();
  f.devices.devices[0].kernel_ok = false;
  f.devices.devices[0].kernel_error = "cudaErrorNoKernelImageForDevice: no kernel image is available";
  auto plan = decide_plan(f.inputs());
  EXPECT_EQ(plan.preprocess.device, "cpu");
  EXPECT_NE(plan.preprocess.reason.find("NoKernelImage"), std::string::npos);
  const auto checks = gpu_checks(f.devices, f.driver);
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[1].status, Status::fail);
  EXPECT_NE(checks[1].action.find("CMAKE_CUDA_ARCHITECTURES"), std::string::npos);

  f = h100();
  f.torch.built_with_cuda = false;
  f.torch.cuda_available = false;
  plan = decide_plan(f.inputs());
  EXPECT_EQ(plan.preprocess.device, "cuda");
  EXPECT_EQ(plan.infer.device, "cpu");
  EXPECT_TRUE(plan.infer.fallback);
  EXPECT_NE(plan.infer.reason.find("CPU build"), std::string::npos);
  // A classic resampler never wanted the GPU.
  plan = decide_plan(f.inputs("libx264", true));
  EXPECT_FALSE(plan.infer.fallback);
}

TEST(Driver, TooOldDriverSpellsOutTheFix) {
  DriverInfo d;
  d.libcuda_loaded = true;
  d.cuda_version = 12020;
  d.driver_version = "535.104.05";
  // This binary: CUDA 13.0 (major too new: fail); libtorch cu128 (minor compat: warn only).
  auto c = driver_check(d, 13000, 12080);
  EXPECT_EQ(c.status, Status::fail);
  EXPECT_NE(c.action.find("580.65.06"), std::string::npos) << c.action;
  EXPECT_NE(c.action.find("R580"), std::string::npos);
  EXPECT_NE(c.action.find("570.26"), std::string::npos) << c.action;
  EXPECT_NE(c.action.find("libtorch built for CUDA <= 12.2"), std::string::npos) << c.action;

  c = driver_check(d, 0, 12080);
  EXPECT_EQ(c.status, Status::warn);
  d.cuda_version = 13000;
  EXPECT_EQ(driver_check(d, 13000, 12080).status, Status::ok);
  EXPECT_EQ(min_driver_for_cuda(12040), "550.54.14");
  EXPECT_EQ(min_driver_for_cuda(13010), "580.65.06");
}

TEST(Driver, MissingDriverIsAWarningWithAnAnswer) {
  const auto f = no_driver();
  const auto c = driver_check(f.driver, 13000, 0);
  EXPECT_EQ(c.status, Status::warn);
  EXPECT_NE(c.summary.find("no NVIDIA driver"), std::string::npos);
  EXPECT_FALSE(c.details["loaded"].get<bool>());
}

TEST(Torch, CudnnVersionText) {
  EXPECT_EQ(cudnn_version_text(91002), "9.10.2");
  EXPECT_EQ(cudnn_version_text(8902), "8.9.2");
  EXPECT_EQ(cudnn_version_text(0), "none");
}
