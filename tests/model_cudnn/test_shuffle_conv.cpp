// The executor's depth_to_space / nearest up-sampling + 3x3 convolution passes
// (model/cudnn/shuffle_conv.h) against a host computation of the same formulas: every block
// size, odd sizes (1 pixel, widths past one thread block), borders (zero padding), ReLU, and
// guard elements after the output checked untouched. Needs a GPU; skipped without one.
#include "kernels/backend.h"
#include "kernels/cuda_raii.h"
#include "kernels/half.h"
#include "model/cudnn/shuffle_conv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <type_traits>
#include <vector>

namespace upscaled::test {
namespace {

using kernels::Half;
using model::cudnn::ShuffleConv;
using model::cudnn::UpsampleConv;

constexpr Half kGuard{0x7bff};  // 65504: no result here can be that
constexpr int kGuardElements = 64;

struct Case {
  int n, h, w, block;
  bool relu;
};

// s[n][Y][X][i]'s element of x: depth_to_space (3 channels) or nearest up-sampling (all).
std::size_t source(const ShuffleConv&, int b, int sy, int sx, int i) {
  return static_cast<std::size_t>(((sy % b) * b + sx % b) * 3 + i);
}
std::size_t source(const UpsampleConv&, int, int, int, int i) {
  return static_cast<std::size_t>(i);
}
int conv_channels(const ShuffleConv&) {
  return 3;
}
int conv_channels(const UpsampleConv& s) {
  return 3 * s.block * s.block;
}

// y[n][o][Y][X] as shuffle_conv.h defines it, in double; w is [out][ky][kx][in] on the host.
template <typename Op>
double reference(const Op& s, const std::vector<float>& w, const std::vector<Half>& x, int n, int o, int Y, int X) {
  const int b = s.block, H = s.h * b, W = s.w * b, cin = 3 * b * b;
  double acc = s.bias[o];
  for (int ky = 0; ky < 3; ++ky)
    for (int kx = 0; kx < 3; ++kx) {
      const int sy = Y + ky - 1, sx = X + kx - 1;
      if (sy < 0 || sy >= H || sx < 0 || sx >= W) continue;
      const std::size_t pixel = (static_cast<std::size_t>(n) * s.h + sy / b) * s.w + sx / b;
      for (int i = 0; i < conv_channels(s); ++i) {
        const Half v = x[pixel * cin + source(s, b, sy, sx, i)];
        const std::size_t wi = static_cast<std::size_t>(((o * 3 + ky) * 3 + kx) * conv_channels(s) + i);
        acc += double(w[wi]) * kernels::half_to_float(v);
      }
    }
  return s.relu ? std::max(acc, 0.0) : acc;
}

void run(const ShuffleConv& s, cudaStream_t stream) {
  model::cudnn::run_shuffle_conv(s, stream);
}
void run(const UpsampleConv& s, cudaStream_t stream) {
  model::cudnn::run_upsample_conv(s, stream);
}

template <typename Op>
void run_case(const Case& c) {
  SCOPED_TRACE(::testing::Message() << (std::is_same_v<Op, ShuffleConv> ? "depth_to_space " : "up-sampling ") << c.n
                                    << "x" << c.h << "x" << c.w << " block " << c.block << (c.relu ? ", relu" : ""));
  std::mt19937 rng(static_cast<unsigned>(c.n * 7919 + c.h * 131 + c.w * 17 + c.block));
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Op s;
  s.n = c.n;
  s.h = c.h;
  s.w = c.w;
  s.block = c.block;
  s.relu = c.relu;
  // Weights of the size a trained layer has: the sums stay of order 1 for every channel count.
  // ShuffleConv carries them in its parameters, UpsampleConv reads them from device memory.
  const float scale = 1.5f / static_cast<float>(conv_channels(s));
  std::vector<float> w(static_cast<std::size_t>(3 * 3 * 3 * conv_channels(s)));
  for (float& v : w) v = kernels::half_to_float(kernels::float_to_half(u(rng) * scale));
  kernels::DeviceBuffer dw(w.size() * sizeof(float));
  if constexpr (std::is_same_v<Op, ShuffleConv>) {
    std::memcpy(s.weight, w.data(), sizeof(s.weight));
  } else {
    kernels::cuda_check(cudaMemcpy(dw.get(), w.data(), w.size() * sizeof(float), cudaMemcpyHostToDevice), "up");
    s.weight = static_cast<const float*>(dw.get());
  }
  for (float& v : s.bias) v = u(rng) * 0.1f;
  const int b = c.block, H = c.h * b, W = c.w * b;
  std::vector<Half> x(static_cast<std::size_t>(c.n) * c.h * c.w * 3 * b * b);
  for (Half& v : x) v = kernels::float_to_half(u(rng));
  const std::size_t outputs = static_cast<std::size_t>(c.n) * 3 * H * W;
  std::vector<Half> y(outputs + kGuardElements, kGuard);

  kernels::DeviceBuffer dx(x.size() * 2), dy(y.size() * 2);
  kernels::cuda_check(cudaMemcpy(dx.get(), x.data(), x.size() * 2, cudaMemcpyHostToDevice), "up");
  kernels::cuda_check(cudaMemcpy(dy.get(), y.data(), y.size() * 2, cudaMemcpyHostToDevice), "up");
  kernels::cuda_check(cudaDeviceSynchronize(), "sync after upload");
  s.in = dx.get();
  s.out = dy.get();
  kernels::CudaStream stream;
  run(s, stream.get());
  kernels::cuda_check(cudaStreamSynchronize(stream.get()), "sync");
  kernels::cuda_check(cudaMemcpy(y.data(), dy.get(), y.size() * 2, cudaMemcpyDeviceToHost), "down");

  int bad = 0;
  for (int n = 0; n < c.n; ++n)
    for (int o = 0; o < 3; ++o)
      for (int Y = 0; Y < H; ++Y)
        for (int X = 0; X < W; ++X) {
          const double want = reference(s, w, x, n, o, Y, X);
          const float got = kernels::half_to_float(y[((static_cast<std::size_t>(n) * 3 + o) * H + Y) * W + X]);
          if (std::fabs(got - want) > 2e-3 * std::max(1.0, std::fabs(want)) && ++bad <= 3)
            ADD_FAILURE() << "frame " << n << " plane " << o << " at " << X << "," << Y << ": " << got << " expected "
                          << want;
        }
  EXPECT_EQ(bad, 0);
  for (int g = 0; g < kGuardElements; ++g)
    EXPECT_EQ(y[outputs + static_cast<std::size_t>(g)].bits, kGuard.bits) << "guard element " << g << " touched";
}

TEST(ShuffleConvCuda, MatchesHostFormula) {
  if (!kernels::cuda_usable()) GTEST_SKIP() << "CUDA not usable: " << kernels::cuda_status();
  for (int block : {2, 3, 4, 8}) {
    run_case<ShuffleConv>({1, 1, 1, block, false});    // one input pixel: every tap at a border
    run_case<ShuffleConv>({2, 3, 5, block, true});     // two frames, ReLU
    run_case<ShuffleConv>({1, 7, 17, block, false});   // odd sizes
    run_case<ShuffleConv>({1, 4, 130, block, false});  // wider than one thread block
  }
  run_case<ShuffleConv>({3, 64, 64, 4, false});  // the first-run size of the product, batched
}

TEST(UpsampleConvCuda, MatchesHostFormula) {
  if (!kernels::cuda_usable()) GTEST_SKIP() << "CUDA not usable: " << kernels::cuda_status();
  for (int block : {2, 3, 4}) {
    run_case<UpsampleConv>({1, 1, 1, block, false});
    run_case<UpsampleConv>({2, 3, 5, block, true});
    run_case<UpsampleConv>({1, 7, 17, block, false});
    run_case<UpsampleConv>({1, 4, 130, block, false});
  }
  run_case<UpsampleConv>({2, 48, 64, 2, false});  // esrgan-slim x2's shape, batched
}

TEST(ShuffleConvCuda, RejectsInvalidArguments) {
  if (!kernels::cuda_usable()) GTEST_SKIP() << "CUDA not usable: " << kernels::cuda_status();
  kernels::DeviceBuffer buffer(4096);
  ShuffleConv s;
  s.n = s.h = s.w = 1;
  s.in = buffer.get();
  s.out = buffer.get();
  s.block = 5;  // no kernel for it
  EXPECT_THROW(model::cudnn::run_shuffle_conv(s, nullptr), std::exception);
  s.block = 4;
  s.in = static_cast<char*>(buffer.get()) + 2;  // not 16-byte aligned
  EXPECT_THROW(model::cudnn::run_shuffle_conv(s, nullptr), std::exception);
  EXPECT_FALSE(model::cudnn::shuffle_conv_supports(5));
  EXPECT_TRUE(model::cudnn::shuffle_conv_supports(8));
  UpsampleConv u;
  u.n = u.h = u.w = 1;
  u.in = u.out = buffer.get();
  u.block = 2;  // no weights
  EXPECT_THROW(model::cudnn::run_upsample_conv(u, nullptr), std::exception);
  u.weight = static_cast<const float*>(buffer.get());
  u.block = 8;  // 192 channels: not built
  EXPECT_THROW(model::cudnn::run_upsample_conv(u, nullptr), std::exception);
  EXPECT_FALSE(model::cudnn::upsample_conv_supports(8));
  EXPECT_TRUE(model::cudnn::upsample_conv_supports(2));
}

}  // namespace
}  // namespace upscaled::test
