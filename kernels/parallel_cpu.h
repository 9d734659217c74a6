// A small fork-join helper for the CPU kernels: splits [0, n) into contiguous chunks and
// runs them on up to hardware_concurrency() threads. Synchronous; the calling thread works
// too. Exceptions from a chunk are rethrown in the caller after all chunks finish.
#pragma once

#include <algorithm>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

namespace upscaled::kernels {

inline void parallel_for(int n, int min_chunk, const std::function<void(int, int)>& body) {
  if (n <= 0) return;
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int chunks = std::clamp(n / std::max(1, min_chunk), 1, hw);
  if (chunks == 1) {
    body(0, n);
    return;
  }
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> errors(chunks);
  auto run = [&](int c) {
    const int begin = static_cast<int>(static_cast<long long>(n) * c / chunks);
    const int end = static_cast<int>(static_cast<long long>(n) * (c + 1) / chunks);
    try {
      body(begin, end);
    } catch (...) {
      errors[c] = std::current_exception();
    }
  };
  threads.reserve(chunks - 1);
  for (int c = 1; c < chunks; ++c) threads.emplace_back(run, c);
  run(0);
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace upscaled::kernels
