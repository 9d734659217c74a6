// Real-ESRGAN SRVGGNetCompact (realesr-animevideov3, realesr-general-x4v3 and its wdn
// variant), built from a state dict: body.0 conv (3 -> num_feat), body.1 PReLU, then
// num_conv pairs of conv (num_feat -> num_feat) + PReLU, and a last conv body.{2*num_conv+2}
// (num_feat -> 3*scale*scale) followed by pixel_shuffle(scale); the nearest-upsampled
// input is added to the result. num_feat, num_conv and scale are read from the keys and
// shapes. Only act_type='prelu' (what Real-ESRGAN publishes) is supported: ReLU variants
// have no activation weights to tell them apart.
//
// Contract: make_srvgg() takes every weight out of the dict and throws Error(model)
// "<file>: SRVGGNetCompact: ..." for a missing key, a wrong shape or an unknown key.
// forward() accepts any input size.
#pragma once

#include <memory>

#include "model/torch/network.h"
#include "model/torch/pth_state_dict.h"

namespace upscaled::model::torchnet {

// True when the keys are those of an SRVGGNetCompact (body.0 conv, body.1 1-D PReLU slopes).
bool is_srvgg(const StateDict& dict);
std::unique_ptr<Network> make_srvgg(StateDict dict);

}  // namespace upscaled::model::torchnet
