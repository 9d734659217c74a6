#include "core/device_memory_ledger.h"

#include "core/error.h"

#include <cstdio>

namespace upscaled {

DeviceMemoryLedger::Reservation& DeviceMemoryLedger::Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    release();
    ledger_ = other.ledger_;
    device_ = other.device_;
    bytes_ = other.bytes_;
    other.ledger_ = nullptr;
    other.bytes_ = 0;
  }
  return *this;
}

void DeviceMemoryLedger::Reservation::release() {
  if (ledger_) ledger_->give_back(device_, bytes_);
  ledger_ = nullptr;
  bytes_ = 0;
}

DeviceMemoryLedger::DeviceMemoryLedger(Probe probe, double usable_fraction)
    : probe_(std::move(probe)), usable_fraction_(usable_fraction) {}

DeviceMemoryLedger& DeviceMemoryLedger::process(const Probe& probe) {
  static DeviceMemoryLedger ledger(probe);
  return ledger;
}

DeviceMemoryLedger::Device& DeviceMemoryLedger::device_locked(int device) {
  Device& d = devices_[device];
  if (!d.probed) {
    // Free memory when this process first plans work on the device: what other processes
    // (and this one's CUDA context) already hold stays out of the capacity.
    d.capacity = static_cast<std::size_t>(static_cast<double>(probe_(device)) * usable_fraction_);
    d.probed = true;
  }
  return d;
}

void DeviceMemoryLedger::set_limit(int device, std::size_t bytes) {
  std::lock_guard lock(mutex_);
  devices_[device].limit = bytes;
}

std::optional<DeviceMemoryLedger::Reservation> DeviceMemoryLedger::take_locked(int device, Device& d, std::size_t min,
                                                                               std::size_t want) {
  const std::size_t cap = d.limit > 0 ? std::min(d.limit, d.capacity) : d.capacity;
  const std::size_t free = cap > d.reserved ? cap - d.reserved : 0;
  if (free < min) return std::nullopt;
  Reservation r;
  r.ledger_ = this;
  r.device_ = device;
  r.bytes_ = std::min(std::max(min, want), free);
  d.reserved += r.bytes_;
  return r;
}

std::optional<DeviceMemoryLedger::Reservation> DeviceMemoryLedger::try_reserve(int device, std::size_t min,
                                                                               std::size_t want) {
  std::lock_guard lock(mutex_);
  return take_locked(device, device_locked(device), min, want);
}

DeviceMemoryLedger::Reservation DeviceMemoryLedger::reserve(int device, std::size_t min, std::size_t want,
                                                            std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  Device& d = device_locked(device);
  const std::size_t cap = d.limit > 0 ? std::min(d.limit, d.capacity) : d.capacity;
  const std::string where = "cuda:" + std::to_string(device);
  if (min > cap)
    throw Error(ErrorCode::device, "not enough GPU memory on " + where + ": this job needs at least " +
                                       format_bytes(min) + ", " + format_bytes(cap) + " is usable");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto r = take_locked(device, d, min, want)) return std::move(*r);
    if (released_.wait_until(lock, deadline) == std::cv_status::timeout) {
      if (auto r = take_locked(device, d, min, want)) return std::move(*r);
      throw Error(ErrorCode::device, "not enough GPU memory on " + where + ": this job needs at least " +
                                         format_bytes(min) + ", other jobs hold " + format_bytes(d.reserved) + " of " +
                                         format_bytes(cap));
    }
  }
}

std::size_t DeviceMemoryLedger::capacity(int device) {
  std::lock_guard lock(mutex_);
  const Device& d = device_locked(device);
  return d.limit > 0 ? std::min(d.limit, d.capacity) : d.capacity;
}

std::size_t DeviceMemoryLedger::reserved(int device) {
  std::lock_guard lock(mutex_);
  return device_locked(device).reserved;
}

void DeviceMemoryLedger::give_back(int device, std::size_t bytes) {
  {
    std::lock_guard lock(mutex_);
    devices_[device].reserved -= bytes;
  }
  released_.notify_all();
}

std::string format_bytes(std::size_t bytes) {
  char text[32];
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * 1024 * 1024)
    std::snprintf(text, sizeof text, "%.1f GiB", b / (1024.0 * 1024 * 1024));
  else
    std::snprintf(text, sizeof text, "%.0f MiB", b / (1024.0 * 1024));
  return text;
}

}  // namespace upscaled
