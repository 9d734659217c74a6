#include "io/encoder_select.h"

#include "core/error.h"
#include "core/log.h"
#include "io/ffmpeg_log.h"

extern "C" {
#include <libavutil/opt.h>
}

#include <algorithm>
#include <map>

namespace upscaled::io {
namespace {

struct Family {
  const char* nvenc;
  const char* cpu;
};

// Every name --codec accepts for a video output, with its family.
const std::map<std::string, Family>& families() {
  static const std::map<std::string, Family> map = {
      {"h264", {"h264_nvenc", "libx264"}},         {"libx264", {"h264_nvenc", "libx264"}},
      {"h264_nvenc", {"h264_nvenc", "libx264"}},   {"hevc", {"hevc_nvenc", "libx265"}},
      {"h265", {"hevc_nvenc", "libx265"}},         {"libx265", {"hevc_nvenc", "libx265"}},
      {"hevc_nvenc", {"hevc_nvenc", "libx265"}},   {"av1", {"av1_nvenc", "libsvtav1"}},
      {"av1_nvenc", {"av1_nvenc", "libsvtav1"}},   {"libsvtav1", {"av1_nvenc", "libsvtav1"}},
      {"libaom-av1", {"av1_nvenc", "libaom-av1"}},
  };
  return map;
}

bool names_cpu_encoder(const std::string& codec) {
  return codec.starts_with("lib");
}

std::string av1_cpu_encoder(const std::string& preferred) {
  if (preferred == "libsvtav1" && !avcodec_find_encoder_by_name("libsvtav1") &&
      avcodec_find_encoder_by_name("libaom-av1"))
    return "libaom-av1";
  return preferred;
}

// x264 preset names onto NVENC's p1 (fastest) ... p7 (slowest).
const char* nvenc_preset(const std::string& x264) {
  static const std::map<std::string, const char*> map = {
      {"ultrafast", "p1"}, {"superfast", "p1"}, {"veryfast", "p2"}, {"faster", "p3"},   {"fast", "p3"},
      {"medium", "p4"},    {"slow", "p5"},      {"slower", "p6"},   {"veryslow", "p7"}, {"placebo", "p7"},
  };
  const auto it = map.find(x264);
  return it == map.end() ? "p4" : it->second;
}

}  // namespace

std::vector<std::string> encoder_candidates(const std::string& codec, const std::string& mode) {
  if (mode != "auto" && mode != "cpu" && mode != "nvenc")
    throw Error(ErrorCode::usage, "--encode '" + mode + "': expected auto, cpu or nvenc");
  if (codec == "png" || codec == "mjpeg") {
    if (mode == "nvenc")
      throw Error(ErrorCode::gpu_required, "--encode nvenc: image outputs are encoded with " + codec + " on the CPU");
    return {codec};
  }
  const auto it = families().find(codec);
  if (it == families().end()) throw Error(ErrorCode::usage, "--codec '" + codec + "': unknown video codec");
  const std::string cpu = av1_cpu_encoder(it->second.cpu);
  if (mode == "cpu") return {cpu};
  if (mode == "nvenc") return {it->second.nvenc};
  if (names_cpu_encoder(codec)) return {codec == "libsvtav1" ? cpu : codec};
  return {it->second.nvenc, cpu};
}

Encoder open_video_encoder(EncoderConfig config, const std::string& mode) {
  const std::vector<std::string> candidates = encoder_candidates(config.codec, mode);
  std::string nvenc_failure;
  for (const std::string& name : candidates) {
    config.codec = name;
    if (!name.ends_with("_nvenc")) {
      Encoder encoder(config);
      if (!nvenc_failure.empty())
        log::warn("encode: " + name + " on the CPU instead of " + candidates.front() + " (" + nvenc_failure + ")");
      else
        log::info("encode: " + name + " on the CPU");
      return encoder;
    }
    FfmpegLogCapture capture;
    try {
      Encoder encoder(config);
      log::info("encode: " + name + " (NVENC; frames are sent from system memory)");
      return encoder;
    } catch (const Error& e) {
      nvenc_failure = capture.text().empty() ? std::string(e.what()) : capture.text();
      if (candidates.size() == 1)
        throw Error(ErrorCode::gpu_required, "--encode nvenc: " + name + " cannot be opened (" + nvenc_failure + ")");
    }
  }
  throw Error(ErrorCode::internal, "no video encoder to try");  // unreachable: candidates is never empty
}

void apply_encoder_options(AVCodecContext* ctx, const EncoderConfig& cfg) {
  const std::string name = ctx->codec->name;
  if (name.ends_with("_nvenc")) {
    // Constant quality (VBR with a CQ target, no bitrate cap): the closest to x264's CRF.
    av_opt_set(ctx->priv_data, "preset", nvenc_preset(cfg.preset), 0);
    av_opt_set(ctx->priv_data, "rc", "vbr", 0);
    av_opt_set_int(ctx->priv_data, "cq", std::max(1, cfg.crf), 0);
    ctx->bit_rate = 0;
  } else if (name == "libsvtav1" || name == "libaom-av1") {
    av_opt_set_int(ctx->priv_data, "crf", cfg.crf, 0);
    if (name == "libaom-av1") av_opt_set_int(ctx->priv_data, "cpu-used", 6, 0);
  }
}

}  // namespace upscaled::io
