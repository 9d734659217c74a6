// ChannelEpilogue on the GPU: one thread per 8 channels of a pixel (16-byte loads and
// stores) when every view allows it, else one thread per element.
#include "model/cudnn/channel_epilogue.h"

#include "core/error.h"

#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace upscaled::model::cudnn {
namespace {

constexpr int kThreads = 256;

struct alignas(16) Half8 {
  __half2 h[4];
};

__device__ inline void accumulate(float (&acc)[8], const Half8& v, float alpha) {
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    const float2 f = __half22float2(v.h[k]);
    acc[2 * k] += alpha * f.x;
    acc[2 * k + 1] += alpha * f.y;
  }
}

__global__ void epilogue_vec8(ChannelEpilogue e, int groups, int items) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < items; i += gridDim.x * blockDim.x) {
    const int p = i / groups;
    const int c = (i - p * groups) * 8;
    float acc[8] = {};
    for (int k = 0; k < e.inputs; ++k) {
      const auto* src = static_cast<const __half*>(e.in[k].base) + std::int64_t(p) * e.in[k].stride + c;
      accumulate(acc, *reinterpret_cast<const Half8*>(src), e.alpha[k]);
    }
    if (e.bias) accumulate(acc, *reinterpret_cast<const Half8*>(static_cast<const __half*>(e.bias) + c), e.bias_alpha);
    Half8 r;
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      float a = acc[2 * k], b = acc[2 * k + 1];
      if (e.relu) {
        a = fmaxf(a, 0.0f);
        b = fmaxf(b, 0.0f);
      }
      r.h[k] = __floats2half2_rn(a, b);
    }
    for (int d = 0; d < e.outputs; ++d)
      *reinterpret_cast<Half8*>(static_cast<__half*>(e.out[d].base) + std::int64_t(p) * e.out[d].stride + c) = r;
  }
}

// EXPERIMENT (variants 1-3, UPSCALED_EPILOGUE_VARIANT): P items per thread with their loads
// issued before any store; Streaming: st.global.cs stores.
__device__ inline Half8 load8(const __half* p, bool streaming) {
  if (streaming) {
    const int4 v = __ldcs(reinterpret_cast<const int4*>(p));
    return *reinterpret_cast<const Half8*>(&v);
  }
  return *reinterpret_cast<const Half8*>(p);
}

template <int P, bool Streaming, bool StreamLoads = false>
__global__ void epilogue_vec8_ilp(ChannelEpilogue e, int groups, int items) {
  const int step = gridDim.x * blockDim.x;
  for (int base = blockIdx.x * blockDim.x + threadIdx.x; base < items; base += step * P) {
    float acc[P][8] = {};
    int pix[P], ch[P];
#pragma unroll
    for (int j = 0; j < P; ++j) {
      const int i = base + j * step;
      pix[j] = i / groups;
      ch[j] = (i - pix[j] * groups) * 8;
      if (i >= items) continue;
      for (int k = 0; k < e.inputs; ++k) {
        const auto* src = static_cast<const __half*>(e.in[k].base) + std::int64_t(pix[j]) * e.in[k].stride + ch[j];
        accumulate(acc[j], load8(src, StreamLoads), e.alpha[k]);
      }
      if (e.bias)
        accumulate(acc[j], *reinterpret_cast<const Half8*>(static_cast<const __half*>(e.bias) + ch[j]), e.bias_alpha);
    }
#pragma unroll
    for (int j = 0; j < P; ++j) {
      if (base + j * step >= items) continue;
      Half8 r;
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        float a = acc[j][2 * k], b = acc[j][2 * k + 1];
        if (e.relu) {
          a = fmaxf(a, 0.0f);
          b = fmaxf(b, 0.0f);
        }
        r.h[k] = __floats2half2_rn(a, b);
      }
      for (int d = 0; d < e.outputs; ++d) {
        auto* dst = reinterpret_cast<Half8*>(static_cast<__half*>(e.out[d].base) + std::int64_t(pix[j]) * e.out[d].stride + ch[j]);
        if constexpr (Streaming)
          __stcs(reinterpret_cast<int4*>(dst), *reinterpret_cast<const int4*>(&r));
        else
          *dst = r;
      }
    }
  }
}

__global__ void epilogue_scalar(ChannelEpilogue e, int items) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < items; i += gridDim.x * blockDim.x) {
    const int p = i / e.channels;
    const int c = i - p * e.channels;
    float acc = 0.0f;
    for (int k = 0; k < e.inputs; ++k)
      acc += e.alpha[k] * __half2float(static_cast<const __half*>(e.in[k].base)[std::int64_t(p) * e.in[k].stride + c]);
    if (e.bias) acc += e.bias_alpha * __half2float(static_cast<const __half*>(e.bias)[c]);
    if (e.relu) acc = fmaxf(acc, 0.0f);
    const __half r = __float2half_rn(acc);
    for (int d = 0; d < e.outputs; ++d) static_cast<__half*>(e.out[d].base)[std::int64_t(p) * e.out[d].stride + c] = r;
  }
}

bool fits_vec8(const ChannelView& v) {
  return v.stride % 8 == 0 && reinterpret_cast<std::uintptr_t>(v.base) % 16 == 0;
}

}  // namespace

void run_channel_epilogue(const ChannelEpilogue& e, cudaStream_t stream) {
  if (e.inputs < 0 || e.inputs > ChannelEpilogue::kMaxInputs || e.outputs < 1 ||
      e.outputs > ChannelEpilogue::kMaxOutputs || e.channels < 1 || e.pixels < 1 ||
      e.pixels * e.channels >= (std::int64_t{1} << 31))
    throw Error(ErrorCode::internal, "channel epilogue: invalid arguments");
  bool vec = e.channels % 8 == 0 && (!e.bias || reinterpret_cast<std::uintptr_t>(e.bias) % 16 == 0);
  for (int k = 0; k < e.inputs; ++k) vec = vec && fits_vec8(e.in[k]);
  for (int d = 0; d < e.outputs; ++d) vec = vec && fits_vec8(e.out[d]);
  const int items = static_cast<int>(vec ? e.pixels * (e.channels / 8) : e.pixels * e.channels);
  // Enough blocks to fill any current GPU several times over; the loops stride past that.
  static const int variant = [] {
    const char* v = std::getenv("UPSCALED_EPILOGUE_VARIANT");
    return v ? std::atoi(v) : 0;
  }();
  const int needed = (items + kThreads - 1) / kThreads;
  const int blocks = variant == 4 ? needed : std::min(needed, 132 * 32);
  if (vec && variant == 1)
    epilogue_vec8_ilp<2, false><<<std::min((needed + 1) / 2, 132 * 32), kThreads, 0, stream>>>(e, e.channels / 8, items);
  else if (vec && variant == 2)
    epilogue_vec8_ilp<1, true><<<blocks, kThreads, 0, stream>>>(e, e.channels / 8, items);
  else if (vec && variant == 5)
    epilogue_vec8_ilp<1, true><<<needed, kThreads, 0, stream>>>(e, e.channels / 8, items);
  else if (vec && variant == 6)
    epilogue_vec8_ilp<1, true, true><<<needed, kThreads, 0, stream>>>(e, e.channels / 8, items);
  else if (vec && variant == 7)
    epilogue_vec8_ilp<2, true><<<std::min((needed + 1) / 2, 132 * 32), kThreads, 0, stream>>>(e, e.channels / 8, items);
  else if (vec && variant == 3)
    epilogue_vec8_ilp<4, false><<<std::min((needed + 3) / 4, 132 * 32), kThreads, 0, stream>>>(e, e.channels / 8, items);
  else if (vec)
    epilogue_vec8<<<blocks, kThreads, 0, stream>>>(e, e.channels / 8, items);
  else
    epilogue_scalar<<<blocks, kThreads, 0, stream>>>(e, items);
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw Error(ErrorCode::device, std::string("CUDA channel epilogue launch: ") + cudaGetErrorString(err));
}

}  // namespace upscaled::model::cudnn
