// Private to model/torch: recognises idealo's RDN and RRDN (image-super-resolution, the
// networks behind @upscalerjs/esrgan-{slim,medium,thick}) in a TF.js topology and reads
// their hyper-parameters from it.
//
// What is read (idealo ISR layer naming, checked against the graph structure):
//   RDN : growth convolutions F_{d}_{c}, d = 1..D dense blocks, c = 1..C convs each with G
//         filters; the shallow features F_m1 have G0 filters.
//   RRDN: growth convolutions F_{t}_{d}_{c}: T residual-in-residual blocks of D dense blocks
//         of C convs with G filters; Pre_blocks_conv has G0 filters.
// The graph itself is executed generically (tfjs_network.cpp); these figures name the
// network in logs and decide its input range. Synchronous, pure; never throws.
#pragma once

#include "model/torch/tfjs_model.h"

#include <string>

namespace upscaled::model::torchnet {

struct RdnInfo {
  enum class Arch { rdn, rrdn, other };
  Arch arch = Arch::other;
  int C = 0, D = 0, G = 0, G0 = 0, T = 0;
  int kernel = 0;  // growth convolution kernel size
  // The value that pixel intensity 1.0 maps to at the network's input and output.
  // UpscalerJS declares inputRange/outputRange [0, 255] for its RDN models and [0, 1] for
  // RRDN (packages/shared/src/esrgan/esrgan.ts, getESRGANModelDefinition); the weights were
  // trained that way, so the Network scales by this factor on the way in and out.
  float pixel_range = 1.0f;

  // e.g. "RRDN(C=4,D=3,G=32,G0=64,T=10,k=3)"; "TF.js graph" when unrecognised.
  std::string describe() const;
};

RdnInfo detect_rdn(const TfjsModel& model);

}  // namespace upscaled::model::torchnet
