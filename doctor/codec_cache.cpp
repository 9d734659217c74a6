// Codec probe cache (doctor/codec_cache.h).
#include "doctor/codec_cache.h"

#include "core/replace_file.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
}

#include <fstream>

namespace upscaled::doctor {

std::string CodecCacheKey::text() const {
  return "driver=" + driver_version + ";cuda=" + std::to_string(driver_cuda) + ";gpu=" + gpu +
         ";visible=" + visible_devices + ";device=" + std::to_string(cuda_device) +
         ";avcodec=" + std::to_string(avcodec_version()) + ";avutil=" + std::to_string(avutil_version()) +
         ";ffmpeg=" + av_version_info();
}

std::filesystem::path codec_cache_file(const std::filesystem::path& cache_dir) {
  return cache_dir / "doctor-codecs.json";
}

std::optional<CodecProbes> load_codec_cache(const std::filesystem::path& file, const CodecCacheKey& key) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(in);
    if (j.at("schema").get<int>() != 1 || j.at("key").get<std::string>() != key.text()) return std::nullopt;
    auto probes = codec_probes_from_json(j.at("probes"));
    probes.from_cache = true;
    return probes;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // corrupt or from another version: probe again and overwrite
  }
}

bool store_codec_cache(const std::filesystem::path& file, const CodecCacheKey& key, const CodecProbes& probes) {
  const nlohmann::json j{{"schema", 1}, {"key", key.text()}, {"probes", to_json(probes)}};
  return replace_file(file, j.dump(2) + "\n");
}

}  // namespace upscaled::doctor
