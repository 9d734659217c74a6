#include "io/stream_side_data.h"

#include "io/av_error.h"

#include <cstring>

namespace upscaled::io {
namespace {

bool is_presentation(AVPacketSideDataType type) {
  switch (type) {
    case AV_PKT_DATA_DISPLAYMATRIX:
    case AV_PKT_DATA_MASTERING_DISPLAY_METADATA:
    case AV_PKT_DATA_CONTENT_LIGHT_LEVEL:
    case AV_PKT_DATA_STEREO3D:
    case AV_PKT_DATA_SPHERICAL:
      return true;
    default:
      return false;
  }
}

}  // namespace

void copy_stream_side_data(const AVStream* in, AVStream* out, bool only_presentation) {
#if LIBAVFORMAT_VERSION_INT >= AV_VERSION_INT(60, 15, 100)
  const AVCodecParameters* src = in->codecpar;
  for (int i = 0; i < src->nb_coded_side_data; ++i) {
    const AVPacketSideData& sd = src->coded_side_data[i];
    if (only_presentation && !is_presentation(sd.type)) continue;
    // avcodec_parameters_copy() already carries coded side data in these versions.
    if (av_packet_side_data_get(out->codecpar->coded_side_data, out->codecpar->nb_coded_side_data, sd.type)) continue;
    AVPacketSideData* dst = av_packet_side_data_new(&out->codecpar->coded_side_data, &out->codecpar->nb_coded_side_data,
                                                    sd.type, sd.size, 0);
    if (!dst) throw std::bad_alloc();
    std::memcpy(dst->data, sd.data, sd.size);
  }
#else
  for (int i = 0; i < in->nb_side_data; ++i) {
    const AVPacketSideData& sd = in->side_data[i];
    if (only_presentation && !is_presentation(sd.type)) continue;
    uint8_t* dst = av_stream_new_side_data(out, sd.type, sd.size);
    if (!dst) throw std::bad_alloc();
    std::memcpy(dst, sd.data, sd.size);
  }
#endif
}

}  // namespace upscaled::io
