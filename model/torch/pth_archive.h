// Reads a zip-format torch.save() file (.pth) into a StateDict.
//
// Contract: synchronous, CPU only. The archive is opened with libtorch's
// caffe2::serialize::PyTorchStreamReader; data.pkl is run through the minimal unpickler in
// pickle_reader.h (torch::pickle_load cannot read OrderedDicts); each tensor is rebuilt from
// its storage record (offset, sizes, strides, any of torch's storage dtypes) and converted
// to float32. Real-ESRGAN wrappers are unwrapped: {'params_ema': sd} is preferred over
// {'params': sd}, as Real-ESRGAN's own inference does. Throws Error(ErrorCode::model)
// naming the file for anything else: missing, truncated, legacy (pre-1.6) format, non-tensor
// entries, storages out of bounds.
#pragma once

#include <filesystem>

#include "model/torch/pth_state_dict.h"

namespace upscaled::model::torchnet {

StateDict read_pth_state_dict(const std::filesystem::path& path);

}  // namespace upscaled::model::torchnet
