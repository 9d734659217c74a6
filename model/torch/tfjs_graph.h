// Private to model/torch: a Keras Functional graph compiled into a flat list of libtorch
// operations (NCHW), with every weight checked against the layer that uses it.
//
// Contract: compile_tfjs_graph() validates the whole graph up front (layer classes,
// channel counts, weight names and shapes) and throws Error(ErrorCode::model) naming the
// model.json and the layer. TfjsGraph::run() is synchronous on CPU and enqueues on the
// current CUDA stream on GPU; it frees each intermediate as soon as its last reader ran and
// reuses buffers in place where nothing else holds them. Not thread-safe.
#pragma once

#include "model/torch/tfjs_model.h"

#include <torch/torch.h>

#include <cstddef>
#include <string>
#include <vector>

namespace upscaled::model::torchnet {

struct GraphNode {
  enum class Kind { input, conv, activation, concat, add, scale, depth_to_space, upsample };
  Kind kind = Kind::input;
  std::string name;
  std::vector<int> inputs;  // indices of earlier nodes
  int last_use = -1;        // index of the last node reading this one (-1: the output)
  int channels = 0;         // output channels, checked at compile time
  int spatial = 1;          // output size / graph input size
  // conv
  torch::Tensor weight;           // OIHW (from compile: a view of the weights as read, HWIO in memory)
  torch::Tensor bias;             // [O] or undefined
  int64_t pad[4] = {0, 0, 0, 0};  // left, right, top, bottom (TF "same" is asymmetric for even kernels)
  // activation (also a conv's own "activation" field)
  std::string activation = "linear";
  double alpha = 0.0;  // LeakyReLU slope
  // scale: constant factor (1 once folded into its producer or consumer: a pass-through);
  // add: per-input factors (a folded scale), all 1 otherwise. depth_to_space / upsample: block size.
  double factor = 1.0;
  std::vector<double> alphas;
  int block = 1;
  bool bilinear = false;
};

struct TfjsGraph {
  std::vector<GraphNode> nodes;  // topological; nodes[0] is the input, output is nodes.back()
  int scale = 1;
  double multiply_adds_per_pixel = 0;  // sum over convolutions of k*k*Cin*Cout*spatial^2

  // x: N x C x H x W on the graph's device/dtype. Returns N x C' x H*scale x W*scale.
  torch::Tensor run(const torch::Tensor& x) const;
  // Runs nodes [first, end) given the values of the nodes before `first` that later nodes
  // read (the others may be undefined): the tail after a fused executor (tfjs_cudnn.h).
  torch::Tensor run_from(std::vector<torch::Tensor> values, std::size_t first) const;
  // Moves the weights and lays them out: contiguous OIHW, or channels_last (OHWI in memory).
  void to(torch::Device device, torch::Dtype dtype, bool channels_last);
};

// Consumes the model: each convolution's weight is a view of its weight buffer as read (no
// copy), multiplied in place there where a constant scale folds into it; to() lays the
// weights out on the target device.
TfjsGraph compile_tfjs_graph(TfjsModel&& model);

}  // namespace upscaled::model::torchnet
