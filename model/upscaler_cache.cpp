// UpscalerCache (contract in upscaler_cache.h).
#include "model/upscaler_cache.h"

#include "core/log.h"

#include <sstream>
#include <utility>

namespace upscaled::model {

UpscalerCache::UpscalerCache(std::size_t max_idle, Loader loader) : max_idle_(max_idle), loader_(std::move(loader)) {}

std::string UpscalerCache::key_of(const ModelRequest& r) {
  std::ostringstream k;
  k << r.name << '\n'
    << r.scale << '\n'
    << r.device << '\n'
    << r.precision << '\n'
    << r.tile << '\n'
    << r.tile_overlap << '\n'
    << r.batch << '\n'
    << r.models_dir.string() << '\n'
    << r.gpu_memory_limit << '\n'
    << r.gpu_memory_wait_seconds << '\n'
    << r.gpu_jobs << '\n'
    << r.memory_cost_cache.string();
  return k.str();
}

UpscalerCache::Lease UpscalerCache::borrow(const ModelRequest& request) {
  std::string key = key_of(request);
  {
    std::lock_guard lock(mutex_);
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if (it->key != key) continue;
      std::unique_ptr<Upscaler> model = std::move(it->model);
      idle_.erase(it);
      return Lease(this, std::move(key), std::move(model), true);
    }
  }
  // Loading takes a while: not under the lock, so other jobs borrow and give back meanwhile.
  return Lease(this, std::move(key), loader_(request), false);
}

bool UpscalerCache::has_idle(const ModelRequest& request) const {
  const std::string key = key_of(request);
  std::lock_guard lock(mutex_);
  for (const Idle& i : idle_)
    if (i.key == key) return true;
  return false;
}

std::size_t UpscalerCache::idle() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

void UpscalerCache::clear() {
  std::list<Idle> dropped;
  {
    std::lock_guard lock(mutex_);
    dropped.swap(idle_);
  }
}

void UpscalerCache::give_back(std::string key, std::unique_ptr<Upscaler> model) {
  model->release_reservation();
  std::list<Idle> dropped;  // destroyed after the lock is released
  std::lock_guard lock(mutex_);
  idle_.push_front({std::move(key), std::move(model)});
  while (idle_.size() > max_idle_) dropped.splice(dropped.end(), idle_, std::prev(idle_.end()));
}

UpscalerCache::Lease::Lease(UpscalerCache* cache, std::string key, std::unique_ptr<Upscaler> model, bool reused)
    : cache_(cache), key_(std::move(key)), model_(std::move(model)), reused_(reused) {}

UpscalerCache::Lease::Lease(Lease&& o) noexcept
    : cache_(std::exchange(o.cache_, nullptr)),
      key_(std::move(o.key_)),
      model_(std::move(o.model_)),
      reused_(o.reused_),
      keep_(o.keep_) {}

UpscalerCache::Lease::~Lease() {
  if (!cache_ || !model_ || !keep_ || cache_->max_idle_ == 0) return;
  try {
    cache_->give_back(std::move(key_), std::move(model_));
  } catch (const std::exception& e) {  // a destructor never throws: the model is dropped
    log::warn(log::cat("could not keep the model loaded for the next job: ", e.what()));
  }
}

}  // namespace upscaled::model
