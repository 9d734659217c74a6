// Device memory promised to the jobs of this process, per GPU, so that several jobs sharing
// a GPU never plan to use more than it has.
//
// Why a ledger and not just cudaMemGetInfo: a job asks for its memory once, when it plans
// its tiles and batch, but allocates it over the following seconds (cuDNN autotuning, the
// caching allocator growing); two jobs reading "free memory" at the same moment would both
// plan for all of it. The ledger hands out reservations instead; whatever a job plans fits
// inside its reservation.
//
// Capacity of a device: the first time the ledger sees it, `probe(device)` (free bytes at
// that moment, from the CUDA runtime) times `usable_fraction`, or the configured limit when
// one is set (set_limit). Other processes are not coordinated beyond that first reading.
//
// Contract: thread-safe. Reservation is a move-only RAII owner: the bytes go back to the
// ledger when it is destroyed, and waiters are woken. Torch-free and CUDA-free: the probe
// is injected (model/torch supplies the CUDA one), so the accounting is tested on any
// machine.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace upscaled {

class DeviceMemoryLedger {
 public:
  using Probe = std::function<std::size_t(int device)>;  // free bytes on `device` now

  class Reservation {
   public:
    Reservation() = default;
    Reservation(Reservation&& other) noexcept { *this = std::move(other); }
    Reservation& operator=(Reservation&& other) noexcept;
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    ~Reservation() { release(); }

    std::size_t bytes() const { return bytes_; }
    int device() const { return device_; }
    explicit operator bool() const { return ledger_ != nullptr; }
    void release();

   private:
    friend class DeviceMemoryLedger;
    DeviceMemoryLedger* ledger_ = nullptr;
    int device_ = -1;
    std::size_t bytes_ = 0;
  };

  explicit DeviceMemoryLedger(Probe probe, double usable_fraction = 0.9);

  // The one ledger of this process (the service's jobs and the file command share it).
  // The first caller's probe is kept; later callers' probes are ignored.
  static DeviceMemoryLedger& process(const Probe& probe);

  // Caps a device's capacity at `bytes` (0 = no cap beyond the probe). Takes effect for
  // reservations made afterwards; existing ones are kept.
  void set_limit(int device, std::size_t bytes);

  // Between `min` and `want` bytes (as much of `want` as is free), or nothing when less than
  // `min` is free. Never blocks.
  std::optional<Reservation> try_reserve(int device, std::size_t min, std::size_t want);

  // Like try_reserve, but waits up to `timeout` for other reservations to be released.
  // Throws upscaled::Error(ErrorCode::device) naming the amounts when `min` can never fit
  // (more than the capacity) or the wait times out; the service treats that as transient.
  Reservation reserve(int device, std::size_t min, std::size_t want, std::chrono::milliseconds timeout);

  std::size_t capacity(int device);
  std::size_t reserved(int device);

 private:
  struct Device {
    std::size_t capacity = 0;
    std::size_t limit = 0;
    std::size_t reserved = 0;
    bool probed = false;
  };
  Device& device_locked(int device);  // probes on first sight; mutex held
  std::optional<Reservation> take_locked(int device, Device& d, std::size_t min, std::size_t want);
  void give_back(int device, std::size_t bytes);

  Probe probe_;
  double usable_fraction_;
  std::mutex mutex_;
  std::condition_variable released_;
  std::map<int, Device> devices_;
};

// "1.5 GiB", "512 MiB": for log lines and errors.
std::string format_bytes(std::size_t bytes);

}  // namespace upscaled
