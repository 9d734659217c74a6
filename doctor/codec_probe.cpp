// NVDEC/NVENC session probes through FFmpeg (doctor/codec_probe.h).
#include "doctor/codec_probe.h"

#include "core/log.h"
#include "io/av_error.h"
#include "io/av_handles.h"
#include "io/ffmpeg_log.h"

extern "C" {
#include <libavutil/hwcontext.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
}

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <new>
#include <utility>

namespace upscaled::doctor {
namespace {

// FFmpeg's log callback is process-global; the capture target is per thread, so that a
// probe on one thread never swallows (or reads) another thread's messages.
thread_local std::string* t_capture = nullptr;

void capture_callback(void* avcl, int level, const char* fmt, va_list vl) {
  if (!t_capture) {
    // Another thread's line while a probe runs: the project's routing (io/ffmpeg_log.h).
    if (level > AV_LOG_VERBOSE || !log::enabled(log::Level::debug)) return;
    char line[1024];
    int print_prefix = 1;
    av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &print_prefix);
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (!text.empty()) log::debug("ffmpeg: " + text);
    return;
  }
  if (level > AV_LOG_WARNING) return;
  char line[1024];
  int print_prefix = 0;  // no "[h264_nvenc @ 0x...]" prefix: the reason names the codec already
  av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &print_prefix);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (text.empty()) return;
  if (!t_capture->empty()) *t_capture += "; ";
  *t_capture += text;
}

// Installs the capture for the probing thread; afterwards FFmpeg's lines go to the
// project's logger again (io::route_ffmpeg_log, what app/main.cpp installs at start).
class LogCapture {
 public:
  LogCapture() {
    t_capture = &text_;
    av_log_set_callback(capture_callback);
  }
  ~LogCapture() {
    t_capture = nullptr;
    io::route_ffmpeg_log();
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  // Returns what was logged since the last take() and starts afresh.
  std::string take() { return std::exchange(text_, {}); }

 private:
  std::string text_;
};

std::string reason_of(LogCapture& log, int rc) {
  std::string logged = log.take();
  std::string text = logged.empty() ? io::av_error_text(rc) : logged + " (" + io::av_error_text(rc) + ")";
  if (text.size() > 300) text = text.substr(0, 297) + "...";
  return text;
}

CodecProbe probe_decoder(const std::string& codec, AVBufferRef* device, const std::string& device_error,
                         LogCapture& log) {
  CodecProbe p{codec, codec + "_cuvid", false, {}};
  const AVCodec* dec = avcodec_find_decoder_by_name(p.ffmpeg.c_str());
  if (!dec) {
    p.reason = "this FFmpeg build has no " + p.ffmpeg + " decoder (built without --enable-cuvid)";
    return p;
  }
  if (!device) {
    p.reason = "no CUDA device for FFmpeg: " + device_error;
    return p;
  }
  io::CodecContextPtr ctx(avcodec_alloc_context3(dec));
  if (!ctx) throw std::bad_alloc();
  ctx->hw_device_ctx = av_buffer_ref(device);
  ctx->width = ctx->coded_width = 1280;
  ctx->height = ctx->coded_height = 720;
  ctx->pix_fmt = AV_PIX_FMT_NV12;
  ctx->sw_pix_fmt = AV_PIX_FMT_NV12;
  // Opening a cuvid decoder asks the driver's decoder capabilities for this codec
  // (cuvidGetDecoderCaps) and creates a parser session; it fails on unsupported codecs.
  if (int rc = avcodec_open2(ctx.get(), dec, nullptr); rc < 0) {
    p.reason = reason_of(log, rc);
    return p;
  }
  log.take();
  p.ok = true;
  return p;
}

CodecProbe probe_encoder(const std::string& name, int cuda_device, LogCapture& log) {
  CodecProbe p{name, name, false, {}};
  const AVCodec* enc = avcodec_find_encoder_by_name(name.c_str());
  if (!enc) {
    p.reason = "this FFmpeg build has no " + name + " encoder";
    return p;
  }
  io::CodecContextPtr ctx(avcodec_alloc_context3(enc));
  if (!ctx) throw std::bad_alloc();
  ctx->width = 256;
  ctx->height = 256;
  ctx->pix_fmt = AV_PIX_FMT_YUV420P;
  ctx->time_base = AVRational{1, 25};
  ctx->framerate = AVRational{25, 1};
  av_opt_set_int(ctx->priv_data, "gpu", cuda_device, 0);
  // avcodec_open2 loads libnvidia-encode and opens an encode session on the GPU.
  if (int rc = avcodec_open2(ctx.get(), enc, nullptr); rc < 0) {
    p.reason = reason_of(log, rc);
    return p;
  }
  log.take();
  p.ok = true;
  return p;
}

}  // namespace

const CodecProbe* CodecProbes::find_nvdec(const std::string& codec) const {
  for (const auto& p : nvdec)
    if (p.codec == codec) return &p;
  return nullptr;
}

const CodecProbe* CodecProbes::find_nvenc(const std::string& encoder) const {
  for (const auto& p : nvenc)
    if (p.codec == encoder) return &p;
  return nullptr;
}

const std::vector<std::string>& nvdec_codecs() {
  static const std::vector<std::string> codecs{"h264", "hevc", "vp9", "av1", "vp8"};
  return codecs;
}

const std::vector<std::string>& nvenc_encoders() {
  static const std::vector<std::string> encoders{"h264_nvenc", "hevc_nvenc", "av1_nvenc"};
  return encoders;
}

CodecProbes probe_nv_codecs(int cuda_device) {
  const auto start = std::chrono::steady_clock::now();
  CodecProbes probes;
  LogCapture log;
  AVBufferRef* raw = nullptr;
  const std::string device_name = std::to_string(cuda_device);
  if (int rc = av_hwdevice_ctx_create(&raw, AV_HWDEVICE_TYPE_CUDA, device_name.c_str(), nullptr, 0); rc < 0)
    probes.device_error = reason_of(log, rc);
  io::BufferRefPtr device(raw);
  for (const auto& codec : nvdec_codecs())
    probes.nvdec.push_back(probe_decoder(codec, device.get(), probes.device_error, log));
  for (const auto& name : nvenc_encoders()) probes.nvenc.push_back(probe_encoder(name, cuda_device, log));
  probes.probe_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return probes;
}

nlohmann::json to_json(const CodecProbes& probes) {
  auto list = [](const std::vector<CodecProbe>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& p : v) a.push_back({{"codec", p.codec}, {"ffmpeg", p.ffmpeg}, {"ok", p.ok}, {"reason", p.reason}});
    return a;
  };
  return {{"device_error", probes.device_error},
          {"nvdec", list(probes.nvdec)},
          {"nvenc", list(probes.nvenc)},
          {"probe_ms", probes.probe_ms}};
}

CodecProbes codec_probes_from_json(const nlohmann::json& j) {
  CodecProbes probes;
  probes.device_error = j.at("device_error").get<std::string>();
  auto read = [](const nlohmann::json& a, std::vector<CodecProbe>& out) {
    for (const auto& e : a)
      out.push_back({e.at("codec").get<std::string>(), e.at("ffmpeg").get<std::string>(), e.at("ok").get<bool>(),
                     e.at("reason").get<std::string>()});
  };
  read(j.at("nvdec"), probes.nvdec);
  read(j.at("nvenc"), probes.nvenc);
  probes.probe_ms = j.at("probe_ms").get<double>();
  return probes;
}

}  // namespace upscaled::doctor
