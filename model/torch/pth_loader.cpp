// load_pth_network / load_safetensors_network: read the weight file into a StateDict, then
// pick the architecture from its key names (see rrdbnet.h and srvgg.h for what each reads
// from the keys and shapes).
#include "core/error.h"
#include "model/torch/network.h"
#include "model/torch/pth_archive.h"
#include "model/torch/rrdbnet.h"
#include "model/torch/safetensors_reader.h"
#include "model/torch/srvgg.h"

namespace upscaled::model::torchnet {
namespace {

std::unique_ptr<Network> network_from_state_dict(StateDict dict) {
  if (is_rrdbnet(dict)) return make_rrdbnet(std::move(dict));
  if (is_srvgg(dict)) return make_srvgg(std::move(dict));
  const std::vector<std::string> keys = dict.keys();
  std::string found;
  for (size_t i = 0; i < keys.size() && i < 3; ++i) found += (i ? ", '" : "'") + keys[i] + "'";
  // The original ESRGAN repository's key layouts; they would need renaming, which we do not guess.
  const bool old_esrgan = dict.contains("model.0.weight") || dict.contains("RRDB_trunk.0.RDB1.conv1.weight");
  throw Error(ErrorCode::model,
              dict.file() + ": unknown network" + (old_esrgan ? " (old ESRGAN key layout?)" : "") +
                  ": expected Real-ESRGAN RRDBNet keys (conv_first, body.N.rdb1.conv1, ..., conv_last) or "
                  "SRVGGNetCompact keys (body.0 conv, body.1 PReLU, ...); found " +
                  std::to_string(keys.size()) + " tensors: " + found + (keys.size() > 3 ? ", ..." : ""));
}

}  // namespace

std::unique_ptr<Network> load_pth_network(const std::filesystem::path& path) {
  return network_from_state_dict(read_pth_state_dict(path));
}

std::unique_ptr<Network> load_safetensors_network(const std::filesystem::path& path) {
  return network_from_state_dict(read_safetensors_state_dict(path));
}

}  // namespace upscaled::model::torchnet
