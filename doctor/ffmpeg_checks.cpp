// FFmpeg versions and codecs (doctor/ffmpeg_checks.h).
#include "doctor/ffmpeg_checks.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libswscale/swscale.h>
}

#include <algorithm>

namespace upscaled::doctor {
namespace {

std::string version_text(unsigned v) {
  return std::to_string(AV_VERSION_MAJOR(v)) + "." + std::to_string(AV_VERSION_MINOR(v)) + "." +
         std::to_string(AV_VERSION_MICRO(v));
}

struct Lib {
  const char* name;
  unsigned runtime;
  unsigned built;
};

// Codecs the pipeline may use besides the configured ones: still images (png, mjpeg) and
// the usual inputs. Missing ones only warn.
const std::vector<std::string> kUsualEncoders{"libx264", "libx265", "png", "mjpeg"};
const std::vector<std::string> kUsualDecoders{"h264", "hevc", "vp8", "vp9", "av1", "png", "mjpeg"};

}  // namespace

std::string cpu_encoder_for(const std::string& encoder) {
  if (encoder == "h264_nvenc") return "libx264";
  if (encoder == "hevc_nvenc") return "libx265";
  if (encoder == "av1_nvenc") return "libaom-av1";
  return encoder;
}

std::vector<Check> ffmpeg_checks(const std::string& encoder, const std::string& input_codec) {
  std::vector<Check> out;

  const Lib libs[] = {{"libavcodec", avcodec_version(), LIBAVCODEC_VERSION_INT},
                      {"libavformat", avformat_version(), LIBAVFORMAT_VERSION_INT},
                      {"libavutil", avutil_version(), LIBAVUTIL_VERSION_INT},
                      {"libswscale", swscale_version(), LIBSWSCALE_VERSION_INT}};
  Check lc = make_check("ffmpeg.libs", "ffmpeg", Status::ok, std::string("FFmpeg ") + av_version_info() + ":");
  lc.details["version"] = av_version_info();
  std::string mismatch;
  for (const auto& l : libs) {
    lc.summary += std::string(" ") + l.name + " " + version_text(l.runtime);
    lc.details[l.name] = {{"runtime", version_text(l.runtime)}, {"built", version_text(l.built)}};
    // A different major version is ABI-incompatible: structures this binary reads differ.
    if (AV_VERSION_MAJOR(l.runtime) != AV_VERSION_MAJOR(l.built))
      mismatch += std::string(mismatch.empty() ? "" : ", ") + l.name + " " + version_text(l.runtime) +
                  " (built against " + version_text(l.built) + ")";
  }
  if (!mismatch.empty()) {
    lc.status = Status::fail;
    lc.blocking = true;
    lc.summary = "FFmpeg libraries differ from the ones upscaled was built against: " + mismatch;
    lc.action = "install the FFmpeg libraries this build expects, or rebuild upscaled against the installed ones";
  }
  out.push_back(std::move(lc));

  auto codec_line = [](const std::string& id, const char* kind, const std::vector<std::string>& usual,
                       const std::string& wanted, bool encoders) {
    Check c = make_check(id, "ffmpeg", Status::ok, "");
    std::vector<std::string> names = usual;
    if (!wanted.empty() && std::find(names.begin(), names.end(), wanted) == names.end())
      names.insert(names.begin(), wanted);
    std::string present, missing;
    for (const auto& n : names) {
      const bool found = encoders ? avcodec_find_encoder_by_name(n.c_str()) != nullptr
                                  : avcodec_find_decoder_by_name(n.c_str()) != nullptr;
      c.details[n] = found;
      std::string& list = found ? present : missing;
      list += (list.empty() ? "" : " ") + n;
    }
    c.summary = std::string(kind) + ": " + present + (missing.empty() ? "" : "; missing: " + missing);
    const bool wanted_missing = !wanted.empty() && !(encoders ? avcodec_find_encoder_by_name(wanted.c_str())
                                                              : avcodec_find_decoder_by_name(wanted.c_str()));
    if (wanted_missing) {
      c.status = Status::fail;
      c.blocking = true;
      c.action = "the configuration asks for " + wanted +
                 ": install an FFmpeg built with it (Debian: libavcodec-extra) or choose another";
    } else if (!missing.empty()) {
      c.status = Status::warn;
      c.action = "outputs or inputs that need " + missing + " will fail: install libavcodec-extra";
    }
    return c;
  };
  out.push_back(codec_line("ffmpeg.encoders", "encoders", kUsualEncoders, cpu_encoder_for(encoder), true));
  out.push_back(codec_line("ffmpeg.decoders", "decoders", kUsualDecoders, input_codec, false));
  return out;
}

}  // namespace upscaled::doctor
