#include "io/av_error.h"

#include <cerrno>

extern "C" {
#include <libavutil/error.h>
}

namespace upscaled::io {

std::string av_error_text(int errnum) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(errnum, buf, sizeof buf);
  return buf;
}

int av_check(int rc, const std::string& context, ErrorCode code) {
  if (rc == AVERROR(ENOSPC) || rc == AVERROR(EDQUOT)) code = ErrorCode::no_space;
  if (rc < 0) throw Error(code, context + ": " + av_error_text(rc));
  return rc;
}

}  // namespace upscaled::io

#include "io/av_handles.h"

#include <new>

namespace upscaled::io {

FramePtr make_frame() {
  FramePtr f(av_frame_alloc());
  if (!f) throw std::bad_alloc();
  return f;
}

PacketPtr make_packet() {
  PacketPtr p(av_packet_alloc());
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace upscaled::io
