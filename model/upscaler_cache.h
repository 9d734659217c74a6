// Loaded models kept between the jobs of one process (the watch-folder service), so that a
// job whose model request matches an earlier one skips loading the model: reading and
// checking its files, building the network, uploading the weights, and on the GPU the first
// runs' set-up (cuDNN's per-size plans, lazily loaded kernels).
//
// Contract: thread-safe. borrow() hands out a model for one job's exclusive use: an idle one
// loaded earlier with an equal ModelRequest, else a fresh one from the loader (load_upscaler
// by default; a loader error propagates). A lease gives its model back when it is destroyed,
// but only after keep() (the job ended well): a job that failed drops its model, which may
// be in a bad state. A model given back first releases its device-memory reservation
// (Upscaler::release_reservation), so idle models hold none; at most `max_idle` idle models
// are kept, the least recently used going first. Loaded weights and, on the GPU, libtorch's
// cached blocks stay allocated while a model is idle.
#pragma once

#include "model/model_loader.h"

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>

namespace upscaled::model {

class UpscalerCache {
 public:
  using Loader = std::function<std::unique_ptr<Upscaler>(const ModelRequest&)>;

  explicit UpscalerCache(std::size_t max_idle = 4, Loader loader = load_upscaler);
  UpscalerCache(const UpscalerCache&) = delete;
  UpscalerCache& operator=(const UpscalerCache&) = delete;

  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Upscaler& get() const { return *model_; }
    bool reused() const { return reused_; }
    void keep() { keep_ = true; }  // give the model back to the cache at the end of the lease

   private:
    friend class UpscalerCache;
    Lease(UpscalerCache* cache, std::string key, std::unique_ptr<Upscaler> model, bool reused);
    UpscalerCache* cache_;
    std::string key_;
    std::unique_ptr<Upscaler> model_;
    bool reused_ = false;
    bool keep_ = false;
  };

  Lease borrow(const ModelRequest& request);
  // Whether borrow(request) would reuse an idle model now.
  bool has_idle(const ModelRequest& request) const;
  std::size_t idle() const;
  void clear();  // drops every idle model

  // Every field that changes what load_upscaler() builds or how it plans memory.
  static std::string key_of(const ModelRequest& request);

 private:
  void give_back(std::string key, std::unique_ptr<Upscaler> model);

  std::size_t max_idle_;
  Loader loader_;
  mutable std::mutex mutex_;
  struct Idle {
    std::string key;
    std::unique_ptr<Upscaler> model;
  };
  std::list<Idle> idle_;  // most recently given back first
};

}  // namespace upscaled::model
