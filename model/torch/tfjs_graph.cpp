// Compiles a Keras Functional graph (as read from a TF.js model.json) into libtorch ops.
// Layout: Keras is NHWC with HWIO kernels; libtorch convolutions want NCHW and OIHW, so each
// kernel becomes an OIHW view of its HWIO weights here (TfjsGraph::to lays it out on the
// target device) and concatenation happens on dim 1.
#include "model/torch/tfjs_graph.h"

#include "core/error.h"

#include <map>

namespace upscaled::model::torchnet {
namespace {

using Kind = GraphNode::Kind;

[[noreturn]] void fail(const TfjsModel& model, const std::string& layer, const std::string& what) {
  throw Error(ErrorCode::model, model.file.string() + ": layer '" + layer + "': " + what);
}

std::vector<int> int_pair(const nlohmann::json& config, const char* key, int fallback) {
  const auto& v = config.value(key, nlohmann::json::array({fallback, fallback}));
  if (v.is_number_integer()) return {v.get<int>(), v.get<int>()};
  if (!v.is_array() || v.size() != 2) return {-1, -1};
  return {v[0].get<int>(), v[1].get<int>()};
}

const torch::Tensor& weight(const TfjsModel& model, const std::string& layer, const std::string& suffix) {
  const auto it = model.weights.find(layer + "/" + suffix);
  if (it != model.weights.end()) return it->second;
  // Some converters prefix weight names with the model or a scope: accept "<scope>/<layer>/<suffix>".
  const std::string tail = "/" + layer + "/" + suffix;
  for (const auto& [name, tensor] : model.weights)
    if (name.size() > tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0) return tensor;
  fail(model, layer, "weight '" + layer + "/" + suffix + "' is missing from the weightsManifest");
}

// Multiplies every element once, in memory order: t may be a permuted view (compile_conv's
// weights). A plain loop on the loading thread: libtorch's own would split over its CPU
// thread pool, which the loads beside the GPU warm-up avoid (TfjsGraph::to).
void scale_in_place(torch::Tensor& t, double factor) {
  if (!t.is_non_overlapping_and_dense() || t.scalar_type() != torch::kFloat32) {
    t.mul_(factor);
    return;
  }
  float* p = t.data_ptr<float>();
  const auto f = static_cast<float>(factor);
  for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] *= f;
}

std::string shape_text(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? "," : "") + std::to_string(t.size(i));
  return s + "]";
}

void check_activation(const TfjsModel& model, const std::string& layer, const std::string& name) {
  static const char* known[] = {"linear", "relu", "sigmoid", "tanh", "leaky_relu"};
  for (const char* k : known)
    if (name == k) return;
  fail(model, layer, "activation '" + name + "' is not supported (linear, relu, sigmoid, tanh)");
}

void compile_conv(const TfjsModel& model, const TfjsLayer& layer, int in_channels, GraphNode& node) {
  const auto& c = layer.config;
  if (c.value("data_format", "channels_last") != "channels_last")
    fail(model, layer.name, "data_format must be channels_last");
  if (int_pair(c, "strides", 1) != std::vector<int>{1, 1}) fail(model, layer.name, "only stride 1 is supported");
  if (int_pair(c, "dilation_rate", 1) != std::vector<int>{1, 1}) fail(model, layer.name, "dilation is not supported");
  if (c.value("groups", 1) != 1) fail(model, layer.name, "grouped convolution is not supported");
  const auto k = int_pair(c, "kernel_size", 0);
  const int filters = c.value("filters", 0);
  const torch::Tensor& kernel = weight(model, layer.name, "kernel");
  const std::vector<int64_t> want{k[0], k[1], in_channels, filters};
  if (kernel.sizes().vec() != want)
    fail(model, layer.name,
         "kernel has shape " + shape_text(kernel) + " but the topology needs [" + std::to_string(k[0]) + "," +
             std::to_string(k[1]) + "," + std::to_string(in_channels) + "," + std::to_string(filters) + "]");
  node.weight = kernel.permute({3, 2, 0, 1});  // HWIO -> OIHW, a view: to() lays it out
  if (c.value("use_bias", true)) {
    const torch::Tensor& bias = weight(model, layer.name, "bias");
    if (bias.dim() != 1 || bias.size(0) != filters)
      fail(model, layer.name, "bias has shape " + shape_text(bias) + ", expected [" + std::to_string(filters) + "]");
    node.bias = bias.clone();
  }
  const std::string padding = c.value("padding", "valid");
  if (padding == "same") {
    // TF pads k-1 in total, the extra pixel of an even kernel going right/bottom.
    node.pad[0] = (k[1] - 1) / 2;
    node.pad[1] = (k[1] - 1) - node.pad[0];
    node.pad[2] = (k[0] - 1) / 2;
    node.pad[3] = (k[0] - 1) - node.pad[2];
  } else if (padding != "valid" || k[0] != 1 || k[1] != 1) {
    fail(model, layer.name,
         "padding '" + padding + "' with a " + std::to_string(k[0]) + "x" + std::to_string(k[1]) +
             " kernel changes the frame size; only 'same' (or 1x1) is supported");
  }
  node.activation = c.value("activation", "linear");
  check_activation(model, layer.name, node.activation);
  node.channels = filters;
}

// Removes the constant multiplications (RRDN's residual scaling, beta = 0.2) as separate
// kernels: into the weights and bias of a linear convolution that feeds only them, else into
// the add that is their only reader (out = a + beta * b in one kernel). The folded node
// stays as a pass-through so that indices and last uses do not change.
void fold_scales(TfjsGraph& graph) {
  std::vector<int> readers(graph.nodes.size(), 0);
  std::vector<int> reader(graph.nodes.size(), -1);
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    for (int in : graph.nodes[i].inputs) {
      ++readers[static_cast<size_t>(in)];
      reader[static_cast<size_t>(in)] = static_cast<int>(i);
    }
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    GraphNode& node = graph.nodes[i];
    if (node.kind != Kind::scale || node.factor == 1.0) continue;
    GraphNode& producer = graph.nodes[static_cast<size_t>(node.inputs[0])];
    if (producer.kind == Kind::conv && producer.activation == "linear" &&
        readers[static_cast<size_t>(node.inputs[0])] == 1) {
      scale_in_place(producer.weight, node.factor);
      if (producer.bias.defined()) scale_in_place(producer.bias, node.factor);
      node.factor = 1.0;
    } else if (readers[i] == 1 && graph.nodes[static_cast<size_t>(reader[i])].kind == Kind::add) {
      GraphNode& add = graph.nodes[static_cast<size_t>(reader[i])];
      for (size_t k = 0; k < add.inputs.size(); ++k)
        if (add.inputs[k] == static_cast<int>(i)) add.alphas[k] *= node.factor;
      node.factor = 1.0;
    }
  }
}

}  // namespace

TfjsGraph compile_tfjs_graph(TfjsModel&& model) {
  TfjsGraph graph;
  std::map<std::string, int> index;
  std::vector<int> spatial;  // output size factor of each node
  for (const TfjsLayer& layer : model.layers) {
    GraphNode node;
    node.name = layer.name;
    for (const auto& in : layer.inputs) node.inputs.push_back(index.at(in));
    const auto& c = layer.config;
    const std::string& cls = layer.class_name;
    auto in_ch = [&](size_t i) { return graph.nodes[static_cast<size_t>(node.inputs.at(i))].channels; };
    int factor = node.inputs.empty() ? 1 : spatial[static_cast<size_t>(node.inputs[0])];
    if (cls != "InputLayer" && node.inputs.empty()) fail(model, layer.name, "has no input");
    for (int in : node.inputs)
      if (spatial[static_cast<size_t>(in)] != factor) fail(model, layer.name, "joins tensors of different sizes");

    if (cls == "InputLayer") {
      if (layer.name != model.input_layer) fail(model, layer.name, "a second input layer is not supported");
      const auto& shape = c.value("batch_input_shape", nlohmann::json::array());
      node.channels = shape.is_array() && shape.size() == 4 && shape[3].is_number_integer() ? shape[3].get<int>() : 0;
      if (node.channels != 3) fail(model, layer.name, "input must be NHWC with 3 channels (RGB)");
      if (!graph.nodes.empty()) fail(model, layer.name, "the input layer must come first");
    } else if (cls == "Conv2D") {
      node.kind = Kind::conv;
      compile_conv(model, layer, in_ch(0), node);
    } else if (cls == "Activation" || cls == "ReLU" || cls == "LeakyReLU") {
      node.kind = Kind::activation;
      node.activation = cls == "Activation" ? c.value("activation", "linear") : cls == "ReLU" ? "relu" : "leaky_relu";
      node.alpha = c.value("alpha", 0.3);
      check_activation(model, layer.name, node.activation);
      node.channels = in_ch(0);
    } else if (cls == "Concatenate") {
      node.kind = Kind::concat;
      const int axis = c.value("axis", -1);
      if (axis != -1 && axis != 3) fail(model, layer.name, "only channel concatenation (axis -1 or 3) is supported");
      for (size_t i = 0; i < node.inputs.size(); ++i) node.channels += in_ch(i);
    } else if (cls == "Add") {
      node.kind = Kind::add;
      node.alphas.assign(node.inputs.size(), 1.0);
      node.channels = in_ch(0);
      for (size_t i = 1; i < node.inputs.size(); ++i)
        if (in_ch(i) != node.channels) fail(model, layer.name, "adds tensors with different channel counts");
    } else if (cls == "MultiplyBeta") {
      // UpscalerJS's custom layer: tf.mul(x, beta), beta = 0.2 (also written in the config).
      node.kind = Kind::scale;
      node.factor = c.value("beta", 0.2);
      node.channels = in_ch(0);
    } else if (cls.rfind("PixelShuffle", 0) == 0) {
      // UpscalerJS's custom layer: tf.depthToSpace(x, scale, 'NHWC').
      node.kind = Kind::depth_to_space;
      node.block = c.value("scale", 0);
      if (node.block < 2 || in_ch(0) % (node.block * node.block) != 0)
        fail(model, layer.name,
             "depth_to_space block " + std::to_string(node.block) + " does not divide " + std::to_string(in_ch(0)) +
                 " channels");
      node.channels = in_ch(0) / (node.block * node.block);
      factor *= node.block;
    } else if (cls == "UpSampling2D") {
      node.kind = Kind::upsample;
      const auto size = int_pair(c, "size", 2);
      const std::string interpolation = c.value("interpolation", "nearest");
      if (size[0] != size[1] || size[0] < 1)
        fail(model, layer.name, "only equal integer up-sampling sizes are supported");
      if (interpolation != "nearest" && interpolation != "bilinear")
        fail(model, layer.name, "interpolation '" + interpolation + "' is not supported");
      node.block = size[0];
      node.bilinear = interpolation == "bilinear";
      node.channels = in_ch(0);
      factor *= node.block;
    } else {
      fail(model, layer.name,
           "class '" + cls + "' is not supported (InputLayer, Conv2D, Activation, ReLU, LeakyReLU, Concatenate, Add, " +
               "MultiplyBeta, PixelShuffle<N>x, UpSampling2D)");
    }
    for (int in : node.inputs) graph.nodes[static_cast<size_t>(in)].last_use = static_cast<int>(graph.nodes.size());
    index[layer.name] = static_cast<int>(graph.nodes.size());
    spatial.push_back(factor);
    node.spatial = factor;
    if (node.kind == Kind::conv)
      graph.multiply_adds_per_pixel += static_cast<double>(node.weight.numel()) * factor * factor;
    graph.nodes.push_back(std::move(node));
  }
  const GraphNode& out = graph.nodes.back();
  if (out.name != model.output_layer) fail(model, model.output_layer, "the output layer must be the last layer");
  if (out.channels != 3) fail(model, out.name, "output has " + std::to_string(out.channels) + " channels, expected 3");
  graph.nodes.back().last_use = -1;
  graph.scale = spatial.back();
  fold_scales(graph);
  return graph;
}

}  // namespace upscaled::model::torchnet
