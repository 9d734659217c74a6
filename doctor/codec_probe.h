// NVDEC and NVENC, probed per codec by really opening a session through FFmpeg: the
// cuvid decoders (h264_cuvid, ...) query the GPU's decoder capabilities and create a video
// parser when opened; the nvenc encoders open an encode session. A failure carries
// FFmpeg's own log lines as the reason (e.g. "OpenEncodeSessionEx failed: unsupported
// device (2)" on GPUs without NVENC such as the H100).
//
// Contract: probe_nv_codecs() is synchronous and takes up to a few hundred milliseconds
// with a GPU (doctor caches its result per driver; see codec_cache.h). While it runs,
// FFmpeg's log callback is replaced by one that captures this thread's messages (thread-
// local target, nothing shared) and routes other threads' lines like io/ffmpeg_log.h does;
// afterwards io::route_ffmpeg_log() is installed, the routing app/main.cpp sets at start.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace upscaled::doctor {

struct CodecProbe {
  std::string codec;   // nvdec: "h264", "hevc", "vp9", "av1"; nvenc: "h264_nvenc", ...
  std::string ffmpeg;  // the FFmpeg codec opened: "h264_cuvid", "h264_nvenc"
  bool ok = false;
  std::string reason;  // FFmpeg's text when !ok
};

struct CodecProbes {
  std::string device_error;  // av_hwdevice_ctx_create(CUDA) failure, empty when it opened
  std::vector<CodecProbe> nvdec;
  std::vector<CodecProbe> nvenc;
  bool from_cache = false;
  double probe_ms = 0;  // time the real probes took (when they were run)

  const CodecProbe* find_nvdec(const std::string& codec) const;
  const CodecProbe* find_nvenc(const std::string& encoder) const;
};

// The codecs probed: NVDEC for H.264, HEVC, VP9, AV1 (and VP8, the web's other codec);
// NVENC for h264_nvenc, hevc_nvenc, av1_nvenc.
const std::vector<std::string>& nvdec_codecs();
const std::vector<std::string>& nvenc_encoders();

CodecProbes probe_nv_codecs(int cuda_device);

nlohmann::json to_json(const CodecProbes& probes);
CodecProbes codec_probes_from_json(const nlohmann::json& j);  // throws nlohmann::json::exception

}  // namespace upscaled::doctor
