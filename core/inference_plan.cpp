#include "core/inference_plan.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace upscaled::model {
namespace {

// Tile sizes tried, largest first: halving would waste memory the job was given.
std::vector<int> tile_candidates(const PlanRequest& r) {
  if (r.user_tile > 0) return {r.user_tile};
  std::vector<int> tiles;
  const int longest = std::max(r.width, r.height);
  for (int t : {2048, 1536, 1024, 768, 512, 384, 256, 192, 128, 96, 64, 48, 32})
    if (t < longest && t >= r.min_tile) tiles.push_back(t);
  return tiles;
}

std::vector<int> batch_candidates(const PlanRequest& r) {
  if (r.user_batch > 0) return {r.user_batch};
  std::vector<int> batches;
  for (int b = std::max(1, r.max_batch); b >= 1; --b) batches.push_back(b);
  return batches;
}

}  // namespace

std::size_t plan_bytes(const MemoryCost& cost, const PlanRequest& r, int tile, int batch) {
  double window_w = r.width, window_h = r.height;
  if (tile > 0) {
    window_w = std::min(tile + 2 * r.overlap, r.width);
    window_h = std::min(tile + 2 * r.overlap, r.height);
  }
  const double bytes =
      cost.fixed + cost.per_pixel * window_w * window_h * batch + r.io_fixed_bytes + r.io_bytes_per_frame * batch;
  return static_cast<std::size_t>(std::ceil(std::max(0.0, bytes)));
}

std::optional<InferencePlan> fit_plan(const MemoryCost& cost, const PlanRequest& r, std::size_t budget) {
  const auto batches = batch_candidates(r);
  if (r.user_tile <= 0)
    for (int b : batches)
      if (const std::size_t need = plan_bytes(cost, r, 0, b); need <= budget) return InferencePlan{0, b, need};
  for (int t : tile_candidates(r))
    for (int b : batches)
      if (const std::size_t need = plan_bytes(cost, r, t, b); need <= budget) return InferencePlan{t, b, need};
  return std::nullopt;
}

InferencePlan preferred_plan(const MemoryCost& cost, const PlanRequest& r) {
  const int tile = r.user_tile > 0 ? r.user_tile : 0;
  const int batch = r.user_batch > 0 ? r.user_batch : std::max(1, r.max_batch);
  return {tile, batch, plan_bytes(cost, r, tile, batch)};
}

InferencePlan smallest_plan(const MemoryCost& cost, const PlanRequest& r) {
  const int batch = r.user_batch > 0 ? r.user_batch : 1;
  const auto tiles = tile_candidates(r);
  const int tile = r.user_tile > 0 ? r.user_tile : tiles.empty() ? 0 : tiles.back();
  return {tile, batch, plan_bytes(cost, r, tile, batch)};
}

}  // namespace upscaled::model
