#include "pipeline/job_encoder_settings.h"

#include "core/file_extension.h"
#include "io/rgb_converter.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace upscaled::pipeline {

std::string encoder_for(const std::filesystem::path& output, const std::string& video_codec) {
  const std::string ext = lower_extension(output);
  if (ext == ".png") return "png";
  if (ext == ".jpg" || ext == ".jpeg") return "mjpeg";
  return video_codec;
}

bool subsampled_output(const std::string& codec, AVPixelFormat source) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(source);
  return codec != "png" && codec != "mjpeg" &&
         !(d && d->log2_chroma_w == 0 && d->log2_chroma_h == 0 && !(d->flags & AV_PIX_FMT_FLAG_RGB));
}

io::EncoderConfig encoder_config(const JobOptions& opt, const std::string& codec, const AVStream* in_video,
                                 const FramePlan& geo, bool global_header) {
  const AVCodecParameters* par = in_video->codecpar;
  io::EncoderConfig ec;
  ec.codec = codec;
  ec.source_format = static_cast<AVPixelFormat>(par->format);
  ec.width = geo.out_width;
  ec.height = geo.out_height;
  ec.time_base = in_video->time_base;
  ec.frame_rate = in_video->avg_frame_rate.num > 0 ? in_video->avg_frame_rate : in_video->r_frame_rate;
  ec.sample_aspect_ratio = {geo.sar_num, geo.sar_den};
  const io::ColorInfo in_color = io::effective_color(par->color_space, par->color_range, ec.source_format, par->height);
  ec.primaries = par->color_primaries;
  ec.transfer = par->color_trc;
  ec.matrix = in_color.matrix;
  ec.range = in_color.range;
  ec.chroma_location = par->chroma_location;
  ec.crf = opt.crf;
  ec.preset = opt.preset;
  ec.global_header = global_header;
  return ec;
}

}  // namespace upscaled::pipeline
