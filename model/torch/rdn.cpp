// Hyper-parameter detection for idealo RDN / RRDN topologies (see rdn.h). The counts come
// from the growth-convolution names and are accepted only if the graph holds exactly
// C*D (RDN) or C*D*T (RRDN) of them, all with the same filter count and kernel; anything
// else is reported as a generic TF.js graph with input range [0, 1].
#include "model/torch/rdn.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

namespace upscaled::model::torchnet {
namespace {

int conv_filters(const TfjsLayer& layer) {
  return layer.config.value("filters", 0);
}

int conv_kernel(const TfjsLayer& layer) {
  const auto& k = layer.config.value("kernel_size", nlohmann::json::array());
  return k.is_array() && !k.empty() && k[0].is_number_integer() ? k[0].get<int>() : 0;
}

const TfjsLayer* find_layer(const TfjsModel& model, const std::string& name) {
  for (const auto& layer : model.layers)
    if (layer.name == name) return &layer;
  return nullptr;
}

}  // namespace

std::string RdnInfo::describe() const {
  std::ostringstream out;
  switch (arch) {
    case Arch::rdn:
      out << "RDN(C=" << C << ",D=" << D << ",G=" << G << ",G0=" << G0 << ",k=" << kernel << ")";
      break;
    case Arch::rrdn:
      out << "RRDN(C=" << C << ",D=" << D << ",G=" << G << ",G0=" << G0 << ",T=" << T << ",k=" << kernel << ")";
      break;
    case Arch::other:
      out << "TF.js graph";
      break;
  }
  return out.str();
}

RdnInfo detect_rdn(const TfjsModel& model) {
  static const std::regex rdn_name(R"(F_(\d+)_(\d+))");
  static const std::regex rrdn_name(R"(F_(\d+)_(\d+)_(\d+))");
  std::set<std::tuple<int, int, int>> rdn_convs, rrdn_convs;
  std::set<int> filters, kernels;
  bool has_multiply_beta = false;
  for (const auto& layer : model.layers) {
    if (layer.class_name == "MultiplyBeta") has_multiply_beta = true;
    if (layer.class_name != "Conv2D") continue;
    std::smatch m;
    if (std::regex_match(layer.name, m, rrdn_name)) {
      rrdn_convs.emplace(std::stoi(m[1]), std::stoi(m[2]), std::stoi(m[3]));
    } else if (std::regex_match(layer.name, m, rdn_name)) {
      rdn_convs.emplace(0, std::stoi(m[1]), std::stoi(m[2]));
    } else {
      continue;
    }
    filters.insert(conv_filters(layer));
    kernels.insert(conv_kernel(layer));
  }
  RdnInfo info;
  const bool rrdn = !rrdn_convs.empty() && rdn_convs.empty();
  const bool rdn = !rdn_convs.empty() && rrdn_convs.empty();
  if ((!rrdn && !rdn) || filters.size() != 1 || kernels.size() != 1) return info;
  const auto& convs = rrdn ? rrdn_convs : rdn_convs;
  int T = 0, D = 0, C = 0;
  for (const auto& [t, d, c] : convs) {
    T = std::max(T, t);
    D = std::max(D, d);
    C = std::max(C, c);
  }
  const size_t expected = static_cast<size_t>(C) * D * (rrdn ? T : 1);
  if (convs.size() != expected || C == 0 || D == 0) return info;
  const TfjsLayer* shallow = find_layer(model, rrdn ? "Pre_blocks_conv" : "F_m1");
  if (!shallow || shallow->class_name != "Conv2D") return info;
  if (rrdn != has_multiply_beta) return info;  // RRDN scales its residuals by beta; RDN never does
  info.arch = rrdn ? RdnInfo::Arch::rrdn : RdnInfo::Arch::rdn;
  info.C = C;
  info.D = D;
  info.T = rrdn ? T : 0;
  info.G = *filters.begin();
  info.G0 = conv_filters(*shallow);
  info.kernel = *kernels.begin();
  info.pixel_range = rrdn ? 1.0f : 255.0f;
  return info;
}

}  // namespace upscaled::model::torchnet
