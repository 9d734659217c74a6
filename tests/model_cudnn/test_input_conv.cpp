// The executor's first-layer convolution (model/cudnn/input_conv.h) against a host computation
// of its formula: 1, 3 and 4 input channels at packed and wider pixel strides, 32 and 64
// outputs, one pixel (every tap at a border), odd sizes, rows longer than a thread block, two
// frames, ReLU, outputs packed, in a slice of a wider buffer (16-byte units) and at an offset
// that allows only channel pairs, with a second output; guard elements after each output and
// around a slice are checked untouched. The kernel needs a GPU (InputConvCuda, skipped without
// one); its view checks run before any CUDA call (InputConv).
#include "kernels/backend.h"
#include "kernels/cuda_raii.h"
#include "kernels/half.h"
#include "model/cudnn/input_conv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <stdexcept>
#include <vector>

namespace upscaled::test {
namespace {

using kernels::Half;
using model::cudnn::InputConvArgs;

constexpr Half kGuard{0x7bff};  // 65504: no result here can be that
constexpr int kGuardElements = 64;

struct Case {
  int n, h, w, cin, in_stride, cout;
  bool relu;
  int out_stride, out_offset;  // output: a slice at out_offset of pixels out_stride apart
  bool second;                 // a second output, packed
};

struct Output {
  std::vector<Half> host;
  kernels::DeviceBuffer device;
  int stride, offset;
};

Output make_output(std::size_t pixels, int stride, int offset) {
  Output o{std::vector<Half>(pixels * static_cast<std::size_t>(stride) + kGuardElements, kGuard),
           kernels::DeviceBuffer((pixels * static_cast<std::size_t>(stride) + kGuardElements) * 2), stride, offset};
  kernels::cuda_check(cudaMemcpy(o.device.get(), o.host.data(), o.host.size() * 2, cudaMemcpyHostToDevice), "up");
  return o;
}

void run_case(const Case& c) {
  SCOPED_TRACE(::testing::Message() << c.n << "x" << c.h << "x" << c.w << " " << c.cin << " (stride " << c.in_stride
                                    << ") -> " << c.cout << " at stride " << c.out_stride << " offset " << c.out_offset
                                    << (c.relu ? ", relu" : "") << (c.second ? ", two outputs" : ""));
  std::mt19937 rng(static_cast<unsigned>(c.n * 7919 + c.h * 131 + c.w * 17 + c.cin * 5 + c.cout + c.out_offset));
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const std::size_t pixels = static_cast<std::size_t>(c.n) * c.h * c.w;
  std::vector<Half> x(pixels * static_cast<std::size_t>(c.in_stride));
  for (Half& v : x) v = kernels::float_to_half(u(rng));
  // Weights of a trained first layer's size: sums of order 1.
  std::vector<Half> w(static_cast<std::size_t>(c.cout) * 9 * c.cin), bias(static_cast<std::size_t>(c.cout));
  for (Half& v : w) v = kernels::float_to_half(u(rng) * 1.5f / static_cast<float>(3 * c.cin));
  for (Half& v : bias) v = kernels::float_to_half(u(rng) * 0.1f);

  kernels::DeviceBuffer dx(x.size() * 2), dw(w.size() * 2), db(bias.size() * 2);
  kernels::cuda_check(cudaMemcpy(dx.get(), x.data(), x.size() * 2, cudaMemcpyHostToDevice), "up");
  kernels::cuda_check(cudaMemcpy(dw.get(), w.data(), w.size() * 2, cudaMemcpyHostToDevice), "up");
  kernels::cuda_check(cudaMemcpy(db.get(), bias.data(), bias.size() * 2, cudaMemcpyHostToDevice), "up");
  Output out = make_output(pixels, c.out_stride, c.out_offset);
  Output out2 = make_output(c.second ? pixels : 0, c.cout, 0);

  InputConvArgs a;
  a.in = dx.get();
  a.in_channels = c.cin;
  a.in_stride = c.in_stride;
  a.weight = dw.get();
  a.bias = db.get();
  a.relu = c.relu;
  a.out = static_cast<Half*>(out.device.get()) + c.out_offset;
  a.out_channels = c.cout;
  a.out_stride = c.out_stride;
  a.out2 = c.second ? out2.device.get() : nullptr;
  a.out2_stride = c.cout;
  a.n = c.n;
  a.h = c.h;
  a.w = c.w;
  kernels::CudaStream stream;
  model::cudnn::run_input_conv(a, stream.get());
  stream.synchronize();
  for (Output* o : {&out, &out2})
    kernels::cuda_check(cudaMemcpy(o->host.data(), o->device.get(), o->host.size() * 2, cudaMemcpyDeviceToHost),
                        "down");

  int bad = 0;
  for (int n = 0; n < c.n; ++n)
    for (int y = 0; y < c.h; ++y)
      for (int xx = 0; xx < c.w; ++xx) {
        const std::size_t p = (static_cast<std::size_t>(n) * c.h + y) * c.w + xx;
        for (int o = 0; o < c.cout; ++o) {
          double want = kernels::half_to_float(bias[static_cast<std::size_t>(o)]);
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx) {
              const int sy = y + ky - 1, sx = xx + kx - 1;
              if (sy < 0 || sy >= c.h || sx < 0 || sx >= c.w) continue;
              const std::size_t q = (static_cast<std::size_t>(n) * c.h + sy) * c.w + sx;
              for (int i = 0; i < c.cin; ++i)
                want +=
                    double(kernels::half_to_float(w[static_cast<std::size_t>(((o * 3 + ky) * 3 + kx) * c.cin + i)])) *
                    kernels::half_to_float(x[q * static_cast<std::size_t>(c.in_stride) + static_cast<std::size_t>(i)]);
            }
          if (c.relu) want = std::max(want, 0.0);
          const float got = kernels::half_to_float(
              out.host[p * static_cast<std::size_t>(c.out_stride) + static_cast<std::size_t>(c.out_offset + o)]);
          if (std::fabs(got - want) > 2e-3 * std::max(1.0, std::fabs(want)) && ++bad <= 3)
            ADD_FAILURE() << "frame " << n << " at " << xx << "," << y << " channel " << o << ": " << got
                          << " expected " << want;
          if (c.second &&
              out2.host[p * static_cast<std::size_t>(c.cout) + static_cast<std::size_t>(o)].bits !=
                  out.host[p * static_cast<std::size_t>(c.out_stride) + static_cast<std::size_t>(c.out_offset + o)]
                      .bits &&
              ++bad <= 3)
            ADD_FAILURE() << "the second output differs at pixel " << p << " channel " << o;
        }
        // The rest of a slice's pixel is someone else's: untouched.
        for (int k = 0; k < c.out_stride; ++k)
          if ((k < c.out_offset || k >= c.out_offset + c.cout) &&
              out.host[p * static_cast<std::size_t>(c.out_stride) + static_cast<std::size_t>(k)].bits != kGuard.bits &&
              ++bad <= 3)
            ADD_FAILURE() << "pixel " << p << " element " << k << " outside the slice touched";
      }
  EXPECT_EQ(bad, 0);
  for (const Output* o : {&out, &out2})
    for (int g = 0; g < kGuardElements; ++g)
      EXPECT_EQ(o->host[o->host.size() - kGuardElements + static_cast<std::size_t>(g)].bits, kGuard.bits)
          << "guard element " << g << " touched";
}

TEST(InputConvCuda, MatchesHostFormula) {
  if (!kernels::cuda_usable()) GTEST_SKIP() << "CUDA not usable: " << kernels::cuda_status();
  for (int cout : {32, 64}) {
    run_case({1, 1, 1, 3, 3, cout, false, cout, 0, false});         // one pixel: every tap at a border
    run_case({2, 3, 5, 3, 3, cout, true, cout, 0, true});           // two frames, ReLU, two outputs
    run_case({1, 7, 17, 1, 1, cout, false, cout, 0, false});        // one channel, odd sizes
    run_case({1, 4, 130, 4, 4, cout, false, cout, 0, false});       // rows longer than a block
    run_case({1, 5, 129, 3, 4, cout, false, cout + 64, 32, true});  // wider input stride; a slice in 16-byte units
    run_case({1, 6, 33, 3, 3, cout, true, cout + 8, 2, false});     // a slice that takes channel pairs only
  }
  run_case({1, 72, 128, 3, 3, 64, false, 64, 0, true});  // esrgan-thick's head, a tile of its size
}

TEST(InputConv, TakesAnImagesFewChannelsOnly) {
  EXPECT_TRUE(model::cudnn::input_conv_takes(3, 1, 3, 64));
  EXPECT_TRUE(model::cudnn::input_conv_takes(3, 1, 1, 32));
  EXPECT_FALSE(model::cudnn::input_conv_takes(3, 1, 5, 64));  // more than 4 channels in
  EXPECT_FALSE(model::cudnn::input_conv_takes(3, 1, 3, 48));  // 48 outputs
  EXPECT_FALSE(model::cudnn::input_conv_takes(1, 0, 3, 64));  // a 1x1 kernel
  EXPECT_FALSE(model::cudnn::input_conv_takes(3, 0, 3, 64));  // no padding
}

TEST(InputConv, RejectsViewsItCannotTake) {
  // Checked before any CUDA call: the pointers are never read.
  alignas(16) static Half scratch[64];
  InputConvArgs a;
  a.in = a.weight = scratch;
  a.out = scratch;
  a.in_channels = a.in_stride = 3;
  a.out_channels = a.out_stride = 64;
  a.n = a.h = a.w = 1;
  InputConvArgs b = a;
  b.out_stride = 63;  // odd
  EXPECT_THROW(model::cudnn::run_input_conv(b, nullptr), std::invalid_argument);
  b = a;
  b.out = scratch + 1;  // 2-byte aligned
  EXPECT_THROW(model::cudnn::run_input_conv(b, nullptr), std::invalid_argument);
  b = a;
  b.in_stride = 2;  // narrower than the channels
  EXPECT_THROW(model::cudnn::run_input_conv(b, nullptr), std::invalid_argument);
  b = a;
  b.out_channels = 48;
  EXPECT_THROW(model::cudnn::run_input_conv(b, nullptr), std::invalid_argument);
  b = a;
  b.weight = nullptr;
  EXPECT_THROW(model::cudnn::run_input_conv(b, nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace upscaled::test
