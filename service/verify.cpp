#include "service/verify.h"

#include "core/error.h"
#include "io/av_error.h"
#include "io/av_handles.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace upscaled::service {
namespace fs = std::filesystem;

MediaFacts probe_media(const fs::path& path) {
  AVFormatContext* raw = nullptr;
  int rc = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (rc < 0) throw Error(ErrorCode::input_invalid, path.string() + ": does not open: " + io::av_error_text(rc));
  io::InputFormatPtr ctx(raw);
  rc = avformat_find_stream_info(ctx.get(), nullptr);
  if (rc < 0) throw Error(ErrorCode::input_invalid, path.string() + ": no stream info: " + io::av_error_text(rc));
  int video = av_find_best_stream(ctx.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (video < 0) throw Error(ErrorCode::input_invalid, path.string() + ": no video stream");
  const AVRational tb = ctx->streams[video]->time_base;

  MediaFacts facts;
  std::int64_t first = std::numeric_limits<std::int64_t>::max(), end = std::numeric_limits<std::int64_t>::min();
  io::PacketPtr pkt = io::make_packet();
  for (;;) {
    rc = av_read_frame(ctx.get(), pkt.get());
    if (rc == AVERROR_EOF) break;
    if (rc < 0) throw Error(ErrorCode::input_invalid, path.string() + ": read error: " + io::av_error_text(rc));
    if (pkt->stream_index == video) {
      ++facts.frames;
      std::int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
      if (ts != AV_NOPTS_VALUE) {
        first = std::min(first, ts);
        end = std::max(end, ts + std::max<std::int64_t>(pkt->duration, 0));
      }
    }
    av_packet_unref(pkt.get());
  }
  if (facts.frames == 0) throw Error(ErrorCode::input_invalid, path.string() + ": no video frames");
  if (end > first) facts.duration_s = static_cast<double>(end - first) * av_q2d(tb);
  return facts;
}

void verify_output(const fs::path& input, const fs::path& output) {
  MediaFacts in = probe_media(input);
  MediaFacts out;
  try {
    out = probe_media(output);
  } catch (const Error& e) {
    throw Error(ErrorCode::internal, output.string() + ": verification failed: " + e.what());
  }
  std::ostringstream why;
  if (in.frames != out.frames) {
    why << "has " << out.frames << " frames, the input " << input.string() << " has " << in.frames;
  } else if (in.duration_s > 0 && out.duration_s > 0) {
    const double frame = in.duration_s / static_cast<double>(in.frames);
    if (std::abs(in.duration_s - out.duration_s) > std::max(0.05, 1.01 * frame)) {
      why << "lasts " << out.duration_s << " s, the input " << input.string() << " " << in.duration_s << " s";
    }
  }
  if (!why.str().empty()) throw Error(ErrorCode::internal, output.string() + ": verification failed: " + why.str());
}

}  // namespace upscaled::service
