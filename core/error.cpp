#include "core/error.h"

namespace upscaled {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::ok:
      return "ok";
    case ErrorCode::internal:
      return "internal";
    case ErrorCode::usage:
      return "usage";
    case ErrorCode::input_missing:
      return "input_missing";
    case ErrorCode::input_invalid:
      return "input_invalid";
    case ErrorCode::output:
      return "output";
    case ErrorCode::model:
      return "model";
    case ErrorCode::gpu_required:
      return "gpu_required";
    case ErrorCode::device:
      return "device";
    case ErrorCode::no_space:
      return "no_space";
    case ErrorCode::cancelled:
      return "cancelled";
  }
  return "unknown";
}

}  // namespace upscaled
