// Real-ESRGAN / BasicSR RRDBNet (RealESRGAN_x4plus, RealESRGAN_x2plus, ESRGAN-style x1),
// built from a state dict with BasicSR's key names:
//   conv_first, body.N.rdb{1,2,3}.conv{1..5}, conv_body, conv_up1, conv_up2, conv_hr, conv_last.
// Hyper-parameters come from the file: num_block from the body.N keys, num_feat and
// num_grow_ch from conv_first / body.0.rdb1.conv1 shapes, and the scale from conv_first's
// input channels (3: x4; 12: x2, whose input is pixel_unshuffle(2)'d; 48: x1, unshuffle(4)).
//
// Contract: make_rrdbnet() takes every weight out of the dict and throws Error(model)
// "<file>: RRDBNet: ..." for a missing key, a wrong shape or a key it does not know.
// forward() pads odd sizes by reflection (right/bottom) to the unshuffle factor and crops
// the output, as Real-ESRGAN's inference does, so any input size works.
#pragma once

#include <memory>

#include "model/torch/network.h"
#include "model/torch/pth_state_dict.h"

namespace upscaled::model::torchnet {

// True when the keys are those of an RRDBNet (conv_first and body.0.rdb1.conv1 present).
bool is_rrdbnet(const StateDict& dict);
std::unique_ptr<Network> make_rrdbnet(StateDict dict);

}  // namespace upscaled::model::torchnet
