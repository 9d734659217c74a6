#include "io/demuxer.h"

#include "core/error.h"
#include "io/av_error.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <system_error>

namespace upscaled::io {
namespace {

void check_readable(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) throw Error(ErrorCode::input_missing, quoted(path) + ": no such file");
  if (std::filesystem::is_directory(status)) throw Error(ErrorCode::input_missing, quoted(path) + ": is a directory");
  std::ifstream probe(path, std::ios::binary);
  if (!probe) throw Error(ErrorCode::input_missing, quoted(path) + ": cannot be read: " + std::strerror(errno));
  if (std::filesystem::file_size(path, ec) == 0 && !ec)
    throw Error(ErrorCode::input_invalid, quoted(path) + ": file is empty (0 bytes)");
}

}  // namespace

Demuxer::Demuxer(const std::filesystem::path& path) : path_(path) {
  check_readable(path);
  AVFormatContext* raw = nullptr;
  int rc = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (rc < 0)
    throw Error(ErrorCode::input_invalid, quoted(path) + ": not a readable media file (" + av_error_text(rc) + ")");
  ctx_.reset(raw);
  rc = avformat_find_stream_info(ctx_.get(), nullptr);
  if (rc < 0)
    throw Error(ErrorCode::input_invalid,
                quoted(path) + ": cannot read stream information (" + av_error_text(rc) + ")");

  const AVCodec* decoder = nullptr;
  video_index_ = av_find_best_stream(ctx_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
  if (video_index_ == AVERROR_STREAM_NOT_FOUND)
    throw Error(ErrorCode::input_invalid, quoted(path) + ": has no video stream");
  if (video_index_ == AVERROR_DECODER_NOT_FOUND || !decoder) {
    // Report the first video stream's codec so that the user knows what is unsupported.
    for (unsigned i = 0; i < ctx_->nb_streams; ++i) {
      const AVCodecParameters* par = ctx_->streams[i]->codecpar;
      if (par->codec_type != AVMEDIA_TYPE_VIDEO) continue;
      char fourcc[AV_FOURCC_MAX_STRING_SIZE] = {};
      av_fourcc_make_string(fourcc, par->codec_tag);
      throw Error(ErrorCode::input_invalid, quoted(path) + ": unsupported video codec '" +
                                                avcodec_get_name(par->codec_id) + "' (FourCC " + fourcc +
                                                "; no decoder in this FFmpeg)");
    }
    throw Error(ErrorCode::input_invalid, quoted(path) + ": no decodable video stream");
  }
  av_check(video_index_, quoted(path) + ": selecting the video stream", ErrorCode::input_invalid);
  const AVCodecParameters* par = video_stream()->codecpar;
  if (par->width <= 0 || par->height <= 0)
    throw Error(ErrorCode::input_invalid, quoted(path) + ": video stream has no frame size (truncated or corrupt?)");
}

bool Demuxer::is_image() const {
  const char* name = ctx_->iformat->name;
  return std::strstr(name, "image2") != nullptr || std::strstr(name, "_pipe") != nullptr;
}

namespace {

// Containers such as Matroska carry no frame count, and their nominal rate misleads for
// variable frame rate; reading the packet index without decoding is cheap for files of a
// few GiB (no decoding, sequential reads).
std::int64_t count_packets(const std::filesystem::path& path, int stream_index) {
  AVFormatContext* raw = nullptr;
  if (avformat_open_input(&raw, path.c_str(), nullptr, nullptr) < 0) return 0;
  InputFormatPtr ctx(raw);
  PacketPtr pkt = make_packet();
  std::int64_t count = 0;
  while (av_read_frame(ctx.get(), pkt.get()) >= 0) {
    if (pkt->stream_index == stream_index) ++count;
    av_packet_unref(pkt.get());
  }
  return count;
}

}  // namespace

std::int64_t Demuxer::estimated_frames() const {
  const AVStream* st = video_stream();
  if (st->nb_frames > 0) return st->nb_frames;
  if (is_image()) return 1;
  constexpr std::uintmax_t kScanLimit = 4ull << 30;
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path_, ec);
  if (!ec && size <= kScanLimit) {
    if (const std::int64_t n = count_packets(path_, video_index_); n > 0) return n;
  }
  const AVRational rate = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
  double seconds = 0;
  if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
    seconds = static_cast<double>(st->duration) * av_q2d(st->time_base);
  else if (ctx_->duration != AV_NOPTS_VALUE && ctx_->duration > 0)
    seconds = static_cast<double>(ctx_->duration) / AV_TIME_BASE;
  if (rate.num <= 0 || seconds <= 0) return 0;
  return static_cast<std::int64_t>(std::llround(seconds * av_q2d(rate)));
}

bool Demuxer::read(AVPacket* pkt) {
  const int rc = av_read_frame(ctx_.get(), pkt);
  if (rc == AVERROR_EOF) return false;
  if (rc < 0) throw Error(ErrorCode::input_invalid, quoted(path_) + ": read error (" + av_error_text(rc) + ")");
  return true;
}

}  // namespace upscaled::io
