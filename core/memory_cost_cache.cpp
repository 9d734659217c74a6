// Memory-cost cache file (core/memory_cost_cache.h).
#include "core/memory_cost_cache.h"

#include "core/replace_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <vector>

namespace upscaled::model {
namespace {

constexpr int kSchema = 1;

// The file's entries, or an empty object when it is missing or not ours.
nlohmann::json read_entries(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return nlohmann::json::object();
  try {
    nlohmann::json j = nlohmann::json::parse(in);
    if (j.at("schema").get<int>() != kSchema || !j.at("entries").is_object()) return nlohmann::json::object();
    return j.at("entries");
  } catch (const nlohmann::json::exception&) {
    return nlohmann::json::object();  // corrupt or another version's: measure again and overwrite
  }
}

}  // namespace

std::optional<MemoryCost> load_memory_cost(const std::filesystem::path& file, const std::string& key) {
  const nlohmann::json entries = read_entries(file);
  const auto it = entries.find(key);
  if (it == entries.end()) return std::nullopt;
  try {
    MemoryCost cost;
    cost.fixed = it->at("fixed").get<double>();
    cost.per_pixel = it->at("per_pixel").get<double>();
    // A cost the planner cannot use is a miss: measure again rather than plan from it.
    if (!std::isfinite(cost.fixed) || !std::isfinite(cost.per_pixel) || cost.fixed < 0 || cost.per_pixel <= 0)
      return std::nullopt;
    return cost;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

bool store_memory_cost(const std::filesystem::path& file, const std::string& key, const MemoryCost& cost) {
  nlohmann::json entries = read_entries(file);
  // Entries carry the order they were stored in: past the limit the oldest goes.
  long long last = 0;
  for (const auto& e : entries) last = std::max(last, e.value("order", 0LL));
  entries[key] = {{"fixed", cost.fixed}, {"per_pixel", cost.per_pixel}, {"order", last + 1}};
  while (entries.size() > kMaxMemoryCostEntries) {
    auto oldest = entries.begin();
    for (auto it = entries.begin(); it != entries.end(); ++it)
      if (it->value("order", 0LL) < oldest->value("order", 0LL)) oldest = it;
    entries.erase(oldest);
  }
  return replace_file(file, nlohmann::json{{"schema", kSchema}, {"entries", entries}}.dump(2) + "\n");
}

}  // namespace upscaled::model
