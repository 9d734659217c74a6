// UPSCALED_CUDNN_PROFILE=1 for the cuDNN executor's run() (cudnn_graph_run.cpp): events around
// every call on the run's stream, read after a synchronisation at the end of the run. Host
// code; internal to model/cudnn.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace upscaled::model::cudnn {

// UPSCALED_CUDNN_PROFILE=1: the GPU time of each kind of call in one run() (events around
// every call, read after a synchronisation at the end of the run), on stderr. A diagnostic
// for docs/network-speed.md; off, it costs one branch per call.
class RunProfile {
 public:
  explicit RunProfile(cudaStream_t stream) : stream_(stream), on_(std::getenv("UPSCALED_CUDNN_PROFILE") != nullptr) {}
  ~RunProfile() {
    for (Span& s : spans_) {
      cudaEventDestroy(s.begin);
      cudaEventDestroy(s.end);
    }
  }
  RunProfile(const RunProfile&) = delete;
  RunProfile& operator=(const RunProfile&) = delete;
  template <typename L, typename F>
  void time(L&& label, F&& call) {
    if (!on_) return call();
    Span s{label(), nullptr, nullptr};
    cudaEventCreate(&s.begin);
    cudaEventCreate(&s.end);
    cudaEventRecord(s.begin, stream_);
    call();
    cudaEventRecord(s.end, stream_);
    spans_.push_back(s);
  }
  void report() {
    if (!on_ || spans_.empty()) return;
    cudaStreamSynchronize(stream_);
    std::map<std::string, std::pair<double, int>> by_label;
    double total = 0;
    for (const Span& s : spans_) {
      float ms = 0;
      cudaEventElapsedTime(&ms, s.begin, s.end);
      by_label[s.label].first += ms;
      ++by_label[s.label].second;
      total += ms;
    }
    std::fprintf(stderr, "cudnn executor profile: %.3f ms in %zu calls\n", total, spans_.size());
    for (const auto& [label, v] : by_label)
      std::fprintf(stderr, "  %-44s %8.3f ms %4d calls\n", label.c_str(), v.first, v.second);
  }

 private:
  struct Span {
    std::string label;
    cudaEvent_t begin, end;
  };
  cudaStream_t stream_;
  bool on_;
  std::vector<Span> spans_;
};

}  // namespace upscaled::model::cudnn
