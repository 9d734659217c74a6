// GpuLibraryPrefetch: cuDNN's sub-libraries read in on a thread of their own at the start
// of a command, while the startup check and the input's opening run, instead of at the
// network's first convolution, where they sat on the start-up's critical path (the GPU
// warm-up's first convolution: 0.05-0.13 s on the H200, 0.3-0.37 s from disk;
// docs/gpu-pipeline.md, start-up).
//
// Contract: the constructor starts the thread and returns at once; the destructor joins it.
// The thread makes no CUDA call: it finds the folder of the libcudnn.so libtorch already
// loaded (dl_iterate_phdr), dlopens the sub-libraries a convolution uses from there (cuDNN's
// own later dlopen of the same name then finds them loaded), and, in mode "populate", maps
// their read-only pages into the process (MADV_POPULATE_READ) so that the first use takes no
// page faults. Nothing happens when libcudnn is not loaded (CPU builds) or when disabled.
// Failures are logged at debug level and otherwise ignored: cuDNN loads what it needs itself.
//
// Mode: UPSCALED_LIBRARY_PREFETCH = 0 (off), dlopen, populate (default).
#pragma once

#include <string>
#include <thread>

namespace upscaled::model {

class GpuLibraryPrefetch {
 public:
  // wanted = false (device "cpu", a classic resampler): nothing is started.
  explicit GpuLibraryPrefetch(bool wanted);
  ~GpuLibraryPrefetch();
  GpuLibraryPrefetch(const GpuLibraryPrefetch&) = delete;
  GpuLibraryPrefetch& operator=(const GpuLibraryPrefetch&) = delete;

 private:
  std::thread thread_;
};

// The cuDNN (and NVRTC, which cuDNN's runtime-compiled engines load) libraries loaded in
// this process now, by file name ("libcudnn_cnn.so.9, ..."), for debug lines. Empty when
// none is.
std::string loaded_cudnn_libraries();

}  // namespace upscaled::model
