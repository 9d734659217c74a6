#include "io/muxer.h"

#include "core/error.h"
#include "io/av_error.h"
#include "io/stream_side_data.h"

#include <cstring>

namespace upscaled::io {
namespace {

void copy_chapters(const AVFormatContext* in, AVFormatContext* out) {
  for (unsigned i = 0; i < in->nb_chapters; ++i) {
    const AVChapter* src = in->chapters[i];
    // libavformat has no public "new chapter" call; ffmpeg.c builds them the same way.
    auto* ch = static_cast<AVChapter*>(av_mallocz(sizeof(AVChapter)));
    if (!ch) throw std::bad_alloc();
    ch->id = src->id;
    ch->time_base = src->time_base;
    ch->start = src->start;
    ch->end = src->end;
    av_dict_copy(&ch->metadata, src->metadata, 0);
    int count = static_cast<int>(out->nb_chapters);
    av_dynarray_add(&out->chapters, &count, ch);
    if (!out->chapters) throw std::bad_alloc();
    out->nb_chapters = static_cast<unsigned>(count);
  }
}

}  // namespace

Muxer::Muxer(const std::filesystem::path& path, const std::filesystem::path& format_name_hint,
             const AVFormatContext* input, int input_video_index)
    : path_(path), final_name_(format_name_hint), input_(input), input_video_index_(input_video_index) {
  const AVOutputFormat* fmt = av_guess_format(nullptr, format_name_hint.c_str(), nullptr);
  if (!fmt)
    throw Error(ErrorCode::output, quoted(format_name_hint) +
                                       ": unknown output format (use an extension such as "
                                       ".mp4, .mkv, .webm, .mov, .png or .jpg)");
  AVFormatContext* raw = nullptr;
  av_check(avformat_alloc_output_context2(&raw, fmt, nullptr, path.c_str()), quoted(format_name_hint),
           ErrorCode::output);
  ctx_.reset(raw);

  av_dict_copy(&ctx_->metadata, input->metadata, 0);
  if (!is_image_format()) copy_chapters(input, ctx_.get());

  // Streams keep the input's order; the video stream's slot is filled by add_video().
  stream_map_.assign(input->nb_streams, -1);
  for (unsigned i = 0; i < input->nb_streams; ++i) {
    if (static_cast<int>(i) == input_video_index) {
      AVStream* out = avformat_new_stream(ctx_.get(), nullptr);
      if (!out) throw std::bad_alloc();
      output_video_index_ = out->index;
      continue;
    }
    const AVStream* in = input->streams[i];
    if (is_image_format()) continue;  // a still image holds only the picture
    const AVMediaType type = in->codecpar->codec_type;
    // Matroska stores attachments (fonts) by MIME type, outside its codec tables.
    const int query = avformat_query_codec(fmt, in->codecpar->codec_id, FF_COMPLIANCE_NORMAL);
    const bool storable =
        type == AVMEDIA_TYPE_ATTACHMENT ? std::strstr(fmt->name, "matroska") != nullptr : (query == 1 || query < 0);
    if (!storable) {
      if (type == AVMEDIA_TYPE_DATA || type == AVMEDIA_TYPE_UNKNOWN) continue;  // e.g. timecode tracks
      throw Error(ErrorCode::output, quoted(format_name_hint) + ": input stream #" + std::to_string(i) + " (" +
                                         av_get_media_type_string(type) + ", " +
                                         avcodec_get_name(in->codecpar->codec_id) + ") cannot be stored in " +
                                         fmt->name + "; choose a container that can hold it, such as .mkv");
    }
    AVStream* out = avformat_new_stream(ctx_.get(), nullptr);
    if (!out) throw std::bad_alloc();
    av_check(avcodec_parameters_copy(out->codecpar, in->codecpar), "copying stream parameters");
    out->codecpar->codec_tag = 0;  // let the muxer choose its own tag for the codec
    out->time_base = in->time_base;
    out->disposition = in->disposition;
    out->avg_frame_rate = in->avg_frame_rate;
    out->r_frame_rate = in->r_frame_rate;
    av_dict_copy(&out->metadata, in->metadata, 0);
    copy_stream_side_data(in, out, false);
    stream_map_[i] = out->index;
  }
}

bool Muxer::wants_global_header() const {
  return ctx_->oformat->flags & AVFMT_GLOBALHEADER;
}

bool Muxer::is_image_format() const {
  const char* name = ctx_->oformat->name;
  return std::strcmp(name, "image2") == 0 || std::strstr(name, "_pipe") != nullptr;
}

void Muxer::add_video(const AVCodecContext* encoder) {
  const AVStream* in = input_->streams[input_video_index_];
  AVStream* out = ctx_->streams[output_video_index_];
  av_check(avcodec_parameters_from_context(out->codecpar, encoder), "video stream parameters");
  out->time_base = encoder->time_base;
  out->avg_frame_rate = in->avg_frame_rate;
  out->r_frame_rate = in->r_frame_rate;
  out->sample_aspect_ratio = encoder->sample_aspect_ratio;
  out->disposition = in->disposition;
  av_dict_copy(&out->metadata, in->metadata, 0);
  // The old encoder's name and statistics no longer describe this stream.
  for (const char* key : {"encoder", "ENCODER", "BPS", "NUMBER_OF_FRAMES", "NUMBER_OF_BYTES", "_STATISTICS_TAGS",
                          "_STATISTICS_WRITING_APP", "_STATISTICS_WRITING_DATE_UTC", "DURATION"})
    av_dict_set(&out->metadata, key, nullptr, 0);
  copy_stream_side_data(in, out, true);
}

void Muxer::write_header() {
  if (!(ctx_->oformat->flags & AVFMT_NOFILE))
    av_check(avio_open(&ctx_->pb, path_.c_str(), AVIO_FLAG_WRITE), quoted(final_name_) + ": cannot write the output",
             ErrorCode::output);
  AVDictionary* opts = nullptr;
  if (is_image_format()) av_dict_set(&opts, "update", "1", 0);  // one picture, no %d pattern
  const int rc = avformat_write_header(ctx_.get(), &opts);
  av_dict_free(&opts);
  av_check(rc, quoted(final_name_) + ": writing the container header", ErrorCode::output);
}

void Muxer::write_video(AVPacket* pkt, AVRational encoder_time_base) {
  AVStream* out = ctx_->streams[output_video_index_];
  pkt->stream_index = output_video_index_;
  av_packet_rescale_ts(pkt, encoder_time_base, out->time_base);
  av_check(av_interleaved_write_frame(ctx_.get(), pkt), quoted(final_name_) + ": writing video", ErrorCode::output);
}

void Muxer::write_copied(AVPacket* pkt) {
  const int in_index = pkt->stream_index;
  if (in_index < 0 || in_index >= static_cast<int>(stream_map_.size()) || stream_map_[in_index] < 0) {
    av_packet_unref(pkt);
    return;
  }
  AVStream* out = ctx_->streams[stream_map_[in_index]];
  pkt->stream_index = out->index;
  av_packet_rescale_ts(pkt, input_->streams[in_index]->time_base, out->time_base);
  pkt->pos = -1;
  av_check(av_interleaved_write_frame(ctx_.get(), pkt), quoted(final_name_) + ": writing a copied stream",
           ErrorCode::output);
}

void Muxer::finish() {
  av_check(av_write_trailer(ctx_.get()), quoted(final_name_) + ": finishing the container", ErrorCode::output);
  if (ctx_->pb && !(ctx_->oformat->flags & AVFMT_NOFILE)) {
    avio_flush(ctx_->pb);
    const int error = ctx_->pb->error;
    av_check(avio_closep(&ctx_->pb), quoted(final_name_) + ": closing the output", ErrorCode::output);
    av_check(error, quoted(final_name_) + ": write error", ErrorCode::output);
  }
}

}  // namespace upscaled::io
