// Choosing tile size and batch from the device memory a job may use.
//
// The network's memory use is modelled as linear in the input pixels of one call (all the
// windows of a batch together): bytes = fixed + per_pixel * pixels. TorchUpscaler measures
// both terms on the device at load (two small forward passes, the caching allocator's peak);
// this file only does the arithmetic, so it is tested without a GPU.
//
// Contract: pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <optional>

namespace upscaled::model {

struct MemoryCost {
  double fixed = 0;      // bytes per call whatever its size (weights in use, workspaces)
  double per_pixel = 0;  // bytes per input pixel of a call (activations, input, output)
};

struct PlanRequest {
  int width = 0, height = 0;  // frame size fed to the network
  int max_batch = 4;          // windows per call at most (the model's preference)
  int user_tile = 0;          // --tile: fixed tile (0 = choose)
  int user_batch = 0;         // --batch: fixed batch (0 = choose)
  int overlap = 16;           // context pixels on every side of a tile
  int min_tile = 32;
  // Device bytes the caller holds outside the network (the pipeline's frame buffers,
  // IoDeviceBytes), counted so that the whole job fits: per frame of a batch, and once.
  double io_bytes_per_frame = 0;
  double io_fixed_bytes = 0;
};

// Device memory the caller of Upscaler::prepare() holds for its own frame buffers (the GPU
// frame path: FrameUpscaler::device_bytes), counted in the model's reservation.
struct IoDeviceBytes {
  std::size_t per_frame = 0;  // for each frame of a batch, over all of the caller's batch buffers
  std::size_t fixed = 0;      // once per job: resize plans' intermediates, the canvas
  bool operator==(const IoDeviceBytes&) const = default;
};

struct InferencePlan {
  int tile = 0;  // 0 = whole frames
  int batch = 1;
  std::size_t bytes = 0;  // what the plan needs
};

// Bytes needed by a given tile (0 = whole frame) and batch.
std::size_t plan_bytes(const MemoryCost& cost, const PlanRequest& request, int tile, int batch);

// The preferred plan that fits `budget` bytes: whole frames with the largest batch, else the
// largest tile (and then the largest batch of tiles). User-fixed tile or batch are kept as
// given. Empty when even the smallest plan does not fit.
std::optional<InferencePlan> fit_plan(const MemoryCost& cost, const PlanRequest& request, std::size_t budget);

// The plan a job would like (no memory limit) and the smallest one it can live with: the
// range a job asks the DeviceMemoryLedger for.
InferencePlan preferred_plan(const MemoryCost& cost, const PlanRequest& request);
InferencePlan smallest_plan(const MemoryCost& cost, const PlanRequest& request);

}  // namespace upscaled::model
