// The executor's epilogue kernel (model/cudnn/channel_epilogue.h) against a host computation
// of the same formula: strided inputs and outputs, several outputs at channel offsets of wider
// buffers (the concatenation slices), in place, both the 8-channel and the per-element path,
// and the channels around each slice checked untouched. Needs a GPU; skipped without one.
#include "kernels/backend.h"
#include "kernels/cuda_raii.h"
#include "kernels/half.h"
#include "model/cudnn/channel_epilogue.h"
#include "model/cudnn/cudnn_warm_up.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace upscaled::test {
namespace {

using kernels::Half;
using model::cudnn::ChannelEpilogue;
using model::cudnn::ChannelView;

constexpr Half kGuard{0x7bff};  // 65504: no result here can be that

struct Tensor {
  int stride;
  std::vector<Half> host;
  kernels::DeviceBuffer dev;
  Tensor(std::int64_t pixels, int stride_, std::mt19937& rng, bool random)
      : stride(stride_), host(static_cast<std::size_t>(pixels) * stride_, kGuard), dev(host.size() * 2) {
    std::uniform_real_distribution<float> u(-2.0f, 2.0f);
    if (random)
      for (Half& h : host) h = kernels::float_to_half(u(rng));
    upload();
  }
  // A pageable cudaMemcpy may return before its DMA has landed, and the kernel runs on a
  // non-blocking stream: wait for the device before anything reads or writes the buffer.
  void upload() {
    kernels::cuda_check(cudaMemcpy(dev.get(), host.data(), host.size() * 2, cudaMemcpyHostToDevice), "up");
    kernels::cuda_check(cudaDeviceSynchronize(), "sync after upload");
  }
  std::vector<Half> download() const {
    std::vector<Half> out(host.size());
    kernels::cuda_check(cudaMemcpy(out.data(), dev.get(), out.size() * 2, cudaMemcpyDeviceToHost), "down");
    return out;
  }
  ChannelView view(int offset) { return {static_cast<Half*>(dev.get()) + offset, stride}; }
};

struct Case {
  std::int64_t pixels;
  int channels;
  int in_stride, out_stride, out_offset;
  bool relu, residual, in_place;
};

void run_case(const Case& c) {
  SCOPED_TRACE(::testing::Message() << c.pixels << " px, " << c.channels << " ch, in stride " << c.in_stride
                                    << ", out stride " << c.out_stride << " at " << c.out_offset
                                    << (c.relu ? ", relu" : "") << (c.residual ? ", residual" : "")
                                    << (c.in_place ? ", in place" : ""));
  std::mt19937 rng(static_cast<unsigned>(c.pixels * 131 + c.channels));
  Tensor a(c.pixels, c.in_stride, rng, true), z(c.pixels, c.in_stride, rng, true);
  Tensor bias(1, c.channels, rng, true);
  Tensor wide(c.pixels, c.out_stride, rng, false), wide2(c.pixels, c.out_stride + 8, rng, false);
  const float alpha_a = 0.2f, alpha_z = 1.0f;
  ChannelEpilogue e;
  e.in[0] = a.view(0);
  e.alpha[0] = alpha_a;
  e.inputs = 1;
  if (c.residual) {
    e.in[1] = z.view(0);
    e.alpha[1] = alpha_z;
    e.inputs = 2;
  }
  e.bias = bias.dev.get();
  e.bias_alpha = alpha_a;
  e.relu = c.relu;
  e.out[e.outputs++] = wide.view(c.out_offset);
  e.out[e.outputs++] = wide2.view(c.out_offset);
  if (c.in_place) e.out[e.outputs++] = a.view(0);
  e.pixels = c.pixels;
  e.channels = c.channels;
  kernels::CudaStream stream;
  model::cudnn::run_channel_epilogue(e, stream.get());
  kernels::cuda_check(cudaStreamSynchronize(stream.get()), "sync");

  auto expect_slice = [&](const Tensor& t, int offset, const char* name) {
    const std::vector<Half> got = t.download();
    int bad = 0;
    for (std::int64_t p = 0; p < c.pixels; ++p)
      for (int ch = 0; ch < t.stride; ++ch) {
        const std::size_t at = static_cast<std::size_t>(p) * t.stride + ch;
        const int k = ch - offset;
        if (k < 0 || k >= c.channels) {
          if (got[at].bits != t.host[at].bits && ++bad <= 3)
            ADD_FAILURE() << name << ": channel " << ch << " of pixel " << p << " touched";
          continue;
        }
        const std::size_t src = static_cast<std::size_t>(p) * c.in_stride + k;
        float v = alpha_a * kernels::half_to_float(a.host[src]) + alpha_a * kernels::half_to_float(bias.host[k]);
        if (c.residual) v += alpha_z * kernels::half_to_float(z.host[src]);
        if (c.relu) v = std::max(v, 0.0f);
        const float g = kernels::half_to_float(got[at]);
        if (std::fabs(g - v) > 2e-3f * std::max(1.0f, std::fabs(v)) && ++bad <= 3)
          ADD_FAILURE() << name << ": pixel " << p << " channel " << k << ": " << g << " expected " << v;
      }
    EXPECT_EQ(bad, 0) << name;
  };
  expect_slice(wide, c.out_offset, "first output");
  expect_slice(wide2, c.out_offset, "second output");
  if (c.in_place) expect_slice(a, 0, "in place");
}

TEST(ChannelEpilogueCuda, MatchesHostFormulaOnSlices) {
  if (!kernels::cuda_usable()) GTEST_SKIP() << "CUDA not usable: " << kernels::cuda_status();
  const Case cases[] = {
      {1280 * 17, 32, 32, 96, 64, true, false, false},  // growth conv into a concatenation (8-channel path)
      {1280 * 17, 64, 64, 192, 0, false, true, true},   // LFF + residual, own buffer and slot 0
      {1, 8, 8, 16, 8, false, false, false},            // one pixel
      {17 * 3, 3, 3, 7, 2, true, true, false},          // 3 channels, odd strides: per-element path
      {1023, 32, 40, 104, 24, false, true, true},       // strides not multiples of the channel count
      {257, 16, 16, 36, 20, true, false, false},        // offset not 16-byte aligned: per-element path
  };
  for (const Case& c : cases) run_case(c);
}

TEST(ChannelEpilogueCuda, RejectsInvalidArguments) {
  if (!kernels::cuda_usable()) GTEST_SKIP() << "CUDA not usable: " << kernels::cuda_status();
  ChannelEpilogue e;
  e.pixels = 4;
  e.channels = 8;
  EXPECT_THROW(model::cudnn::run_channel_epilogue(e, nullptr), std::exception);  // no output
}

// The executor's warm-up (model/cudnn/cudnn_warm_up.h) runs its small dense block through
// the split plan on the caller's stream and returns with the stream idle and no error left.
TEST(CudnnWarmUp, RunsOnTheCallersStreamAndReturnsWhenDone) {
  if (!kernels::cuda_usable()) GTEST_SKIP() << "CUDA not usable: " << kernels::cuda_status();
  kernels::CudaStream stream;
  ASSERT_NO_THROW(model::cudnn::warm_up(stream.get()));
  EXPECT_EQ(cudaStreamQuery(stream.get()), cudaSuccess);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  ASSERT_NO_THROW(model::cudnn::warm_up(stream.get()));  // and again: nothing left over
}

}  // namespace
}  // namespace upscaled::test
