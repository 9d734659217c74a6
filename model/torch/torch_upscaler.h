// Private to model/torch: the model::Upscaler around any torchnet::Network.
//
// Contract: upscale() is synchronous (returns once the output planes are written on the
// host) and not thread-safe; the caller owns the images. On CUDA it enqueues on torch's
// current stream of the calling thread and waits for it at the end (the copy back to the
// host). Frames of one call are batched up to preferred_batch(); frames larger than the
// tile (ModelRequest::tile, or a tile chosen after an out-of-memory) are cut into tiles
// that each carry max(tile_overlap, Network::context_pixels()) input pixels of context
// beyond their core; only the core of each tile's output is kept (crop-to-core), so tiles
// never blend two guesses of the same pixel and no seam averaging is needed.
// On CUDA, tile and batch are chosen from device memory before the first frame (prepare()):
// the network's memory per input pixel is measured once per model and precision, the job
// reserves what it needs from the process's DeviceMemoryLedger (between the smallest plan
// and whole frames at the preferred batch) and plans inside that reservation, which it
// holds until destroyed. A user-given --tile/--batch is kept; it must fit.
// On CUDA out-of-memory the tile is halved (sticky for later calls) and the call retried;
// below kMinTile it throws Error(ErrorCode::device). Output is clamped to [0, 1].
// After planning a size, prepare() starts a thread with a stream of its own that pays the
// network's first-call costs at the batch shape it will see (Network::prime: cuDNN's
// preparation of each convolution problem, kernels loaded on first use), so that they
// overlap what the caller does next (the decoder's start); a network that cannot prime gets
// a first run at 64x64 on zeros instead when nothing has run it yet (the memory cost came
// from the cache file). prepare() returns once the priming has made its cuDNN handle, plan
// and scratch (a few ms), so that the caller's next set-up (pinned pools) does not contend
// with those; the GPU work then overlaps it. The first real call waits for the thread; so
// does the destructor.
#pragma once

#include "core/device_memory_ledger.h"
#include "core/inference_plan.h"
#include "model/model_loader.h"
#include "model/torch/network.h"

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace upscaled::model::torchnet {

struct TilePlan {
  // One tile: the input window [x, x+w) x [y, y+h) and, inside it, the core whose output
  // is kept, in frame coordinates.
  struct Tile {
    int x, y, w, h;
    int core_x, core_y, core_w, core_h;
  };
  std::vector<Tile> tiles;
};

// Cuts a width x height frame into cores of at most tile x tile, each window extended by
// `overlap` on every side and shifted inside the frame so that all windows share one size
// (one cuDNN plan, batchable). tile <= 0 or a frame within the tile: one whole-frame tile.
TilePlan plan_tiles(int width, int height, int tile, int overlap);

// The device a request names: "auto" (CUDA device 0 when libtorch sees one, else the CPU),
// "cpu" or "cuda[:N]". Throws Error(device) for CUDA without a GPU, Error(usage) otherwise.
torch::Device resolve_device(const std::string& device, const std::string& model_name);

class TorchUpscaler final : public Upscaler {
 public:
  static constexpr int kMinTile = 32;

  // Moves the network to the chosen device/precision. Throws Error(device) when CUDA is
  // requested but unavailable, Error(usage) for an unknown device or precision.
  TorchUpscaler(std::unique_ptr<Network> network, const ModelRequest& request);
  ~TorchUpscaler() override;
  TorchUpscaler(const TorchUpscaler&) = delete;
  TorchUpscaler& operator=(const TorchUpscaler&) = delete;

  int scale() const override { return network_->scale(); }
  std::string describe() const override;
  int preferred_batch() const override { return batch_; }
  int max_batch() const override { return max_batch_; }
  void upscale(std::span<const PlanarImage> in, std::span<PlanarImage> out) override;
  bool runs_on_cuda() const override { return device_.is_cuda(); }
  // Runs on `stream` (made torch's current stream for the call); same tiling and retries.
  void upscale_device(const DeviceImages& in, const DeviceImages& out, DeviceStream stream) override;

  void prepare(int width, int height, std::optional<IoDeviceBytes> io = std::nullopt) override;
  void release_reservation() override;
  int cuda_device() const override { return device_.is_cuda() ? std::max<int>(0, device_.index()) : -1; }

  // The tile in use now (0 = whole frames); grows smaller after an out-of-memory.
  int tile() const { return tile_; }
  // Bytes of device memory reserved for this model's work (0 on the CPU or before prepare()).
  std::size_t reserved_bytes() const { return reservation_.bytes(); }

 private:
  // Upscales `count` equally sized frames with the current tile size and batch: frame(f)
  // gives frame f's 3 x h x w input, target(f) its 3 x h*s x w*s output (any device/dtype:
  // results are copied and converted into it).
  using FrameTensor = std::function<torch::Tensor(size_t)>;
  void run_frames(size_t count, int width, int height, const FrameTensor& frame, const FrameTensor& target);
  // run_frames, halving the tile after each CUDA out-of-memory down to kMinTile.
  void run_with_retry(size_t count, int width, int height, const FrameTensor& frame, const FrameTensor& target);
  torch::Tensor infer(const torch::Tensor& batch);  // any tensor in; model device and dtype out, clamped
  MemoryCost measure_memory_cost();                 // CUDA: allocator peaks of small forward passes
  void start_first_run(bool after_measurement);     // CUDA: see the contract above
  void join_first_run();

  PlanRequest plan_request(int width, int height) const;

  std::unique_ptr<Network> network_;
  std::string name_;
  torch::Device device_{torch::kCPU};
  torch::Dtype dtype_ = torch::kFloat32;
  int tile_ = 0;
  int overlap_ = 16;
  int batch_ = 1;
  // Memory planning (CUDA only).
  int max_batch_ = 1;
  bool user_tile_ = false, user_batch_ = false;
  std::size_t memory_limit_ = 0;
  double memory_wait_s_ = 0;
  int memory_share_ = 1;
  std::optional<MemoryCost> cost_;
  std::filesystem::path memory_cost_file_;  // ModelRequest::memory_cost_cache
  bool cost_from_file_ = false;             // set by measure_memory_cost(): no forward pass ran
  std::thread first_run_;
  DeviceMemoryLedger::Reservation reservation_;
  int planned_width_ = 0, planned_height_ = 0;
  std::optional<IoDeviceBytes> io_;  // the caller's device buffers per reservation (prepare())
  bool first_call_logged_ = false;   // run_frames: host times of the first call, at debug level
};

}  // namespace upscaled::model::torchnet
