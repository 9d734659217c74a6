// The executor's own 3x3 convolution (model/cudnn/dense_conv.h) against a host computation of
// the same formula from the same float16 values: odd image sizes (tiles cut by the picture's
// edge), batches, inputs read as a prefix of a wider buffer, outputs written into a slice of a
// wider buffer with the channels around it checked untouched, bias, scaled residual (also in
// place: z the output itself) and ReLU; and the weight packing on the host. Needs a GPU for
// the kernel; skipped without one.
#include "kernels/backend.h"
#include "kernels/cuda_raii.h"
#include "kernels/half.h"
#include "model/cudnn/dense_conv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

namespace upscaled::test {
namespace {

using kernels::Half;
using model::cudnn::DenseConvArgs;

constexpr Half kGuard{0x7bff};  // 65504: no result here can be that

std::vector<Half> random_halves(std::size_t n, float lo, float hi, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<Half> v(n);
  for (Half& h : v) h = kernels::float_to_half(u(rng));
  return v;
}

kernels::DeviceBuffer upload(const std::vector<Half>& host) {
  kernels::DeviceBuffer dev(host.size() * 2);
  kernels::cuda_check(cudaMemcpy(dev.get(), host.data(), host.size() * 2, cudaMemcpyHostToDevice), "up");
  kernels::cuda_check(cudaDeviceSynchronize(), "sync after upload");
  return dev;
}

std::vector<std::uint16_t> bits(const std::vector<Half>& v) {
  std::vector<std::uint16_t> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = v[i].bits;
  return out;
}

struct Case {
  int n, h, w, cin, in_stride, cout, out_stride, out_offset;
  bool bias, residual, in_place, relu;
  bool second_residual = false;  // + 0.5 z2 (packed)
  int out2_stride = 0;           // > 0: a second output at channel 2 of rows this wide (4 bytes
                                 // in: the pair stores) or, when a multiple of 8, at channel 8
};

void run_case(const Case& c, model::cudnn::DenseConvKernel kernel) {
  SCOPED_TRACE(::testing::Message() << (kernel == model::cudnn::DenseConvKernel::wgmma ? "wgmma " : "mma.sync ") << c.n
                                    << "x" << c.h << "x" << c.w << " " << c.cin << " (stride " << c.in_stride << ") -> "
                                    << c.cout << " (stride " << c.out_stride << " at " << c.out_offset << "), bias "
                                    << c.bias << " residual " << c.residual << " in place " << c.in_place << " relu "
                                    << c.relu << " z2 " << c.second_residual << " out2 stride " << c.out2_stride);
  std::mt19937 rng(static_cast<unsigned>(c.h * 131 + c.w * 7 + c.cin + c.cout));
  const std::int64_t px = std::int64_t{c.n} * c.h * c.w;
  const std::vector<Half> in = random_halves(static_cast<std::size_t>(px) * c.in_stride, 0.0f, 1.0f, rng);
  const float bound = 1.0f / std::sqrt(9.0f * static_cast<float>(c.cin));
  const std::vector<Half> w = random_halves(static_cast<std::size_t>(c.cout) * 9 * c.cin, -bound, bound, rng);
  const std::vector<Half> bias = random_halves(static_cast<std::size_t>(c.cout), -0.5f, 0.5f, rng);
  std::vector<Half> out(static_cast<std::size_t>(px) * c.out_stride, kGuard);
  if (c.residual && c.in_place)
    for (std::int64_t p = 0; p < px; ++p)
      for (int k = 0; k < c.cout; ++k)
        out[static_cast<std::size_t>(p * c.out_stride + c.out_offset + k)] =
            kernels::float_to_half(std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng));
  const std::vector<Half> z = c.in_place ? out : random_halves(static_cast<std::size_t>(px) * c.cout, -1.0f, 1.0f, rng);
  const std::vector<Half> z2 = random_halves(static_cast<std::size_t>(px) * c.cout, -1.0f, 1.0f, rng);
  const int out2_offset = c.out2_stride % 8 == 0 ? 8 : 2;
  const std::vector<Half> out2(static_cast<std::size_t>(px) * std::max(c.out2_stride, 1), kGuard);
  // 48 outputs run as 64: the weights packed for 64, their last 16 rows zero (dense_conv.h).
  const int rows = c.cout == 48 ? 64 : c.cout;
  std::vector<std::uint16_t> ohwi = bits(w);
  ohwi.resize(static_cast<std::size_t>(rows) * 9 * c.cin, 0);
  const std::vector<std::uint16_t> packed16 = model::cudnn::pack_dense_conv_weights(ohwi, rows, c.cin);
  std::vector<Half> packed(packed16.size());
  for (std::size_t i = 0; i < packed.size(); ++i) packed[i].bits = packed16[i];

  const kernels::DeviceBuffer d_in = upload(in), d_w = upload(packed), d_bias = upload(bias), d_out = upload(out);
  const kernels::DeviceBuffer d_z = upload(c.in_place ? std::vector<Half>(1) : z);
  const kernels::DeviceBuffer d_z2 = upload(z2), d_out2 = upload(out2);
  DenseConvArgs a;
  a.in = d_in.get();
  a.in_stride = c.in_stride;
  a.in_channels = c.cin;
  a.out = static_cast<Half*>(d_out.get()) + c.out_offset;
  a.out_stride = c.out_stride;
  a.out_channels = c.cout;
  a.weights = d_w.get();
  a.bias = c.bias ? d_bias.get() : nullptr;
  const float alpha = c.residual ? 0.2f : 1.0f;
  a.alpha = alpha;
  if (c.residual) {
    a.z = c.in_place ? a.out : d_z.get();
    a.z_stride = c.in_place ? c.out_stride : c.cout;
    a.beta = 1.0f;
  }
  if (c.second_residual) {
    a.z2 = d_z2.get();
    a.z2_stride = c.cout;
    a.beta2 = 0.5f;
  }
  if (c.out2_stride > 0) {
    a.out2 = static_cast<Half*>(d_out2.get()) + out2_offset;
    a.out2_stride = c.out2_stride;
  }
  a.relu = c.relu;
  a.n = c.n;
  a.h = c.h;
  a.w = c.w;
  a.kernel = kernel;
  const kernels::CudaStream stream;
  model::cudnn::run_dense_conv(a, stream.get());
  kernels::cuda_check(cudaStreamSynchronize(stream.get()), "sync");
  std::vector<Half> got(out.size());
  kernels::cuda_check(cudaMemcpy(got.data(), d_out.get(), got.size() * 2, cudaMemcpyDeviceToHost), "down");
  std::vector<Half> got2(out2.size());
  kernels::cuda_check(cudaMemcpy(got2.data(), d_out2.get(), got2.size() * 2, cudaMemcpyDeviceToHost), "down");

  auto at = [&](int n, int y, int x) { return (static_cast<std::int64_t>(n) * c.h + y) * c.w + x; };
  int bad = 0;
  for (int n = 0; n < c.n; ++n)
    for (int y = 0; y < c.h; ++y)
      for (int x = 0; x < c.w; ++x) {
        const std::int64_t p = at(n, y, x);
        for (int co = 0; co < c.out_stride; ++co) {
          const Half g = got[static_cast<std::size_t>(p * c.out_stride + co)];
          if (co < c.out_offset || co >= c.out_offset + c.cout) {
            const Half before = out[static_cast<std::size_t>(p * c.out_stride + co)];
            if (g.bits != before.bits && ++bad < 5) ADD_FAILURE() << "channel " << co << " outside the slice changed";
            continue;
          }
          const int k = co - c.out_offset;
          double sum = 0;
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx) {
              const int sy = y + ky - 1, sx = x + kx - 1;
              if (sy < 0 || sy >= c.h || sx < 0 || sx >= c.w) continue;
              const std::int64_t q = at(n, sy, sx);
              for (int ci = 0; ci < c.cin; ++ci)
                sum += static_cast<double>(kernels::half_to_float(in[static_cast<std::size_t>(q * c.in_stride + ci)])) *
                       kernels::half_to_float(w[static_cast<std::size_t>(((k * 3 + ky) * 3 + kx) * c.cin + ci)]);
            }
          if (c.bias) sum += kernels::half_to_float(bias[static_cast<std::size_t>(k)]);
          sum *= alpha;
          if (c.residual)
            sum += c.in_place ? kernels::half_to_float(out[static_cast<std::size_t>(p * c.out_stride + co)])
                              : kernels::half_to_float(z[static_cast<std::size_t>(p * c.cout + k)]);
          if (c.second_residual) sum += 0.5 * kernels::half_to_float(z2[static_cast<std::size_t>(p * c.cout + k)]);
          if (c.relu) sum = std::max(sum, 0.0);
          const double v = kernels::half_to_float(g);
          // float32 sums of float16 products, one rounding to float16 (2^-11 relative).
          if (!(std::fabs(v - sum) <= 2e-3 + 1.5e-3 * std::fabs(sum)) && ++bad < 5)
            ADD_FAILURE() << "n " << n << " y " << y << " x " << x << " channel " << k << ": " << v << " against "
                          << sum;
        }
        // The second output: the same values in its slice, nothing else touched.
        for (int co = 0; c.out2_stride > 0 && co < c.out2_stride; ++co) {
          const Half g2 = got2[static_cast<std::size_t>(p * c.out2_stride + co)];
          const bool inside = co >= out2_offset && co < out2_offset + c.cout;
          const Half want =
              inside ? got[static_cast<std::size_t>(p * c.out_stride + c.out_offset + co - out2_offset)] : kGuard;
          if (g2.bits != want.bits && ++bad < 5)
            ADD_FAILURE() << "out2 at pixel " << p << " channel " << co << (inside ? " differs from out" : " changed");
        }
      }
  EXPECT_EQ(bad, 0);
}

TEST(DenseConv, PackingOrdersByInputBlockTapAndOutputChannel) {
  const int cout = 2, cin = 64;
  std::vector<std::uint16_t> ohwi(static_cast<std::size_t>(cout) * 9 * cin);
  for (std::size_t i = 0; i < ohwi.size(); ++i) ohwi[i] = static_cast<std::uint16_t>(i);
  const std::vector<std::uint16_t> packed = model::cudnn::pack_dense_conv_weights(ohwi, cout, cin);
  ASSERT_EQ(packed.size(), ohwi.size());
  // Input block 1, tap 4 (the centre), output channel 1, input channel 32 + 5.
  const std::size_t at = ((1 * 9 + 4) * cout + 1) * 32 + 5;
  EXPECT_EQ(packed[at], ohwi[(1 * 9 + 4) * cin + 32 + 5]);
  EXPECT_EQ(packed[0], ohwi[0]);
  EXPECT_THROW(model::cudnn::pack_dense_conv_weights(ohwi, cout, 48), std::invalid_argument);
}

// Both kernels take every case. The wgmma kernel's tiles are 64 columns by 6 rows (32 outputs;
// 4 with UPSCALED_DENSE_CONV_GROWTH_ROWS=4) or 2 rows (64 outputs): sizes below, at and across
// those edges.
const Case kCases[] = {
    {1, 1, 1, 32, 32, 32, 32, 0, false, false, false, false},    // one pixel: every tap but the centre is padding
    {1, 7, 19, 64, 192, 32, 192, 64, true, false, false, true},  // a growth convolution into its block slice
    {2, 17, 33, 160, 192, 32, 192, 160, true, false, false, true},
    {1, 20, 40, 128, 136, 32, 34, 2, false, false, false, false},
    {2, 9, 130, 64, 96, 32, 96, 64, true, false, false, true},   // three column tiles, the last of 2 columns
    {1, 8, 64, 96, 200, 32, 200, 96, true, true, true, true},    // exactly one tile wide, residual in place
    {1, 9, 16, 192, 192, 64, 200, 8, true, true, false, false},  // a fusion convolution with its residual
    {2, 5, 23, 96, 104, 64, 64, 0, true, true, true, true},      // residual read from the output itself
    {1, 7, 129, 192, 192, 64, 64, 0, true, true, false, false},
    // Widths just below and above one and two 64-column tiles.
    {1, 5, 62, 64, 192, 32, 192, 64, true, false, false, true},
    {1, 6, 63, 96, 96, 32, 40, 4, true, true, false, true},
    {2, 3, 125, 32, 40, 64, 72, 8, true, true, true, false},
    {1, 4, 124, 128, 128, 64, 64, 0, false, false, false, true},
    // 7 blocks of 32 input channels, more than any RRDN convolution reads.
    {1, 6, 70, 224, 232, 32, 40, 8, true, true, false, true},
    // A second residual and a second output (an RRDB's add folded into its last fusion
    // convolution): 16-byte stores, then pairs (out2 at channel 2), then with the residual in place.
    {1, 9, 70, 192, 192, 64, 64, 0, true, true, false, false, true, 72},
    {2, 5, 33, 160, 192, 32, 192, 160, true, true, false, false, true, 34},
    {1, 7, 65, 192, 200, 64, 200, 8, true, true, true, false, true, 80},
    // 48 outputs (RRDN's convolution before depth_to_space), run as 64: packed 16-byte stores, a
    // slice that takes pairs with channels after it left alone, and with z2 and a second output.
    {1, 9, 70, 64, 64, 48, 48, 0, true, false, false, false},
    {2, 5, 33, 64, 72, 48, 56, 2, true, true, false, true},
    {1, 7, 65, 96, 96, 48, 64, 8, true, true, false, false, true, 64},
};

TEST(DenseConvCuda, MatchesHostOnSlicesOfWiderBuffers) {
  if (!kernels::cuda_usable()) GTEST_SKIP() << "CUDA not usable: " << kernels::cuda_status();
  for (const Case& c : kCases) run_case(c, model::cudnn::DenseConvKernel::mma);
}

TEST(DenseConvCuda, WgmmaMatchesHostOnSlicesOfWiderBuffers) {
  if (!kernels::cuda_usable()) GTEST_SKIP() << "CUDA not usable: " << kernels::cuda_status();
  if (!model::cudnn::dense_conv_wgmma_available())
    GTEST_SKIP() << "the wgmma kernel needs a compute capability 9.0 GPU and a build with sm_90a";
  for (const Case& c : kCases) run_case(c, model::cudnn::DenseConvKernel::wgmma);
}

// The views are checked before anything reaches CUDA, so this runs without a GPU (the
// pointers are never read).
TEST(DenseConv, RejectsViewsItCannotTake) {
  alignas(16) static std::uint16_t storage[64];
  DenseConvArgs a;
  a.in = a.weights = storage;
  a.out = storage;
  a.in_stride = a.in_channels = 48;  // not a multiple of 32
  a.out_stride = a.out_channels = 32;
  a.n = a.h = a.w = 1;
  EXPECT_THROW(model::cudnn::run_dense_conv(a, nullptr), std::invalid_argument);
  a.in_stride = a.in_channels = 32;
  a.out_stride = a.out_channels = 40;  // only 32, 48 or 64
  EXPECT_THROW(model::cudnn::run_dense_conv(a, nullptr), std::invalid_argument);
  a.out_stride = a.out_channels = 32;
  a.in = storage + 1;  // not 16-byte aligned
  EXPECT_THROW(model::cudnn::run_dense_conv(a, nullptr), std::invalid_argument);
  a.in = storage;
  a.in_stride = 36;  // not a multiple of 8
  EXPECT_THROW(model::cudnn::run_dense_conv(a, nullptr), std::invalid_argument);
  a.in_stride = 32;
  a.w = 1 << 24;  // a row of 2^29 values: the copy offsets within a tile's window would not fit 32 bits
  EXPECT_THROW(model::cudnn::run_dense_conv(a, nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace upscaled::test
