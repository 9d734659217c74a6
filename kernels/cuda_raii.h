// RAII owners for CUDA runtime handles and the error-to-exception rule, for CUDA-only code
// (kernels/*_cuda.*, the CUDA tests and bench, GPU stages). Includes <cuda_runtime_api.h>:
// never include it from code compiled without UPSCALED_WITH_CUDA.
//
// Every CUDA runtime error becomes a CudaError whose message is "<what>: <cudaGetErrorString>".
// Destructors never throw (errors there are ignored: the context may already be torn down).
#pragma once

#include "kernels/image_view.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>

namespace upscaled::kernels {

class CudaError : public std::runtime_error {
 public:
  CudaError(const std::string& what, cudaError_t code)
      : std::runtime_error(what + ": " + cudaGetErrorString(code)), code_(code) {}
  cudaError_t code() const { return code_; }

 private:
  cudaError_t code_;
};

inline void cuda_check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw CudaError(what, e);
}

// After a kernel launch: launch-configuration errors surface here, asynchronous faults at
// the next synchronising call.
inline void cuda_check_launch(const char* kernel) {
  cuda_check(cudaGetLastError(), kernel);
}

inline cudaStream_t to_cuda(Stream s) {
  return reinterpret_cast<cudaStream_t>(s);
}

// Makes `device` the calling thread's current device for the guard's life and restores the
// previous one after. The current device is per thread: code that allocates or launches on
// a chosen GPU from a thread it does not own takes one of these first.
class CudaDeviceGuard {
 public:
  explicit CudaDeviceGuard(int device) : device_(device) {
    cuda_check(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device_) cuda_check(cudaSetDevice(device_), "cudaSetDevice");
  }
  ~CudaDeviceGuard() {
    if (previous_ != device_) cudaSetDevice(previous_);
  }
  CudaDeviceGuard(const CudaDeviceGuard&) = delete;
  CudaDeviceGuard& operator=(const CudaDeviceGuard&) = delete;

 private:
  int device_;
  int previous_ = 0;
};

// An owned non-blocking stream (never synchronises with the legacy default stream).
class CudaStream {
 public:
  CudaStream() { cuda_check(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking), "cudaStreamCreate"); }
  ~CudaStream() {
    if (s_) cudaStreamDestroy(s_);
  }
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;
  cudaStream_t get() const { return s_; }
  Stream stream() const { return reinterpret_cast<Stream>(s_); }
  void synchronize() const { cuda_check(cudaStreamSynchronize(s_), "cudaStreamSynchronize"); }

 private:
  cudaStream_t s_ = nullptr;
};

class CudaEvent {
 public:
  explicit CudaEvent(unsigned flags = cudaEventDefault) {
    cuda_check(cudaEventCreateWithFlags(&e_, flags), "cudaEventCreate");
  }
  ~CudaEvent() {
    if (e_) cudaEventDestroy(e_);
  }
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  cudaEvent_t get() const { return e_; }
  void record(cudaStream_t s) { cuda_check(cudaEventRecord(e_, s), "cudaEventRecord"); }
  void synchronize() const { cuda_check(cudaEventSynchronize(e_), "cudaEventSynchronize"); }
  // Milliseconds between two recorded events.
  static float elapsed_ms(const CudaEvent& a, const CudaEvent& b) {
    float ms = 0.f;
    cuda_check(cudaEventElapsedTime(&ms, a.e_, b.e_), "cudaEventElapsedTime");
    return ms;
  }

 private:
  cudaEvent_t e_ = nullptr;
};

// Device memory: linear (bytes) or pitched 2-D (row_bytes x rows, pitch chosen by CUDA).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
    if (bytes) cuda_check(cudaMalloc(&p_, bytes), "cudaMalloc");
  }
  DeviceBuffer(std::size_t row_bytes, std::size_t rows) {
    cuda_check(cudaMallocPitch(&p_, &pitch_, row_bytes ? row_bytes : 1, rows ? rows : 1), "cudaMallocPitch");
    bytes_ = pitch_ * (rows ? rows : 1);
  }
  ~DeviceBuffer() {
    if (p_) cudaFree(p_);
  }
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : p_(std::exchange(o.p_, nullptr)), bytes_(std::exchange(o.bytes_, 0)), pitch_(std::exchange(o.pitch_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      if (p_) cudaFree(p_);
      p_ = std::exchange(o.p_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
      pitch_ = std::exchange(o.pitch_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* get() const { return p_; }
  std::size_t bytes() const { return bytes_; }
  std::size_t pitch() const { return pitch_; }  // 0 for linear buffers
  template <typename T>
  T* as() const {
    return static_cast<T*>(p_);
  }

 private:
  void* p_ = nullptr;
  std::size_t bytes_ = 0;
  std::size_t pitch_ = 0;
};

// A pitched device plane of T with its view.
template <typename T>
class DevicePlane {
 public:
  DevicePlane() = default;
  DevicePlane(int width, int height)
      : buf_(static_cast<std::size_t>(width) * sizeof(T), static_cast<std::size_t>(height)) {
    view_ = {buf_.as<T>(), width, height, static_cast<std::ptrdiff_t>(buf_.pitch())};
  }
  PlaneView<T> view() const { return view_; }
  PlaneView<const T> cview() const { return view_.as_const(); }

 private:
  DeviceBuffer buf_;
  PlaneView<T> view_{};
};

// Page-locked host memory, so that copies to and from the device run asynchronously.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(std::size_t bytes) : bytes_(bytes) {
    cuda_check(cudaMallocHost(&p_, bytes ? bytes : 1), "cudaMallocHost");
  }
  ~PinnedBuffer() {
    if (p_) cudaFreeHost(p_);
  }
  PinnedBuffer(PinnedBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    if (this != &o) {
      if (p_) cudaFreeHost(p_);
      p_ = std::exchange(o.p_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  std::uint8_t* get() const { return static_cast<std::uint8_t*>(p_); }
  std::size_t bytes() const { return bytes_; }

 private:
  void* p_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace upscaled::kernels
