// CUDA twin of to_rgb_cpu, same arithmetic in the same order (color_math.h).
//
// One thread converts a strip of 8 horizontal pixels, and for 4:2:0 the two luma rows that
// share chroma rows, so that each thread issues few wide accesses: 8 luma samples in one
// 8/16-byte load, the 6 chroma columns a strip needs (4 in one load plus the two
// neighbours), and 16/32-byte stores of 8 RGB values per plane. Rows whose address is not
// aligned for a vector (any pitch is legal) and strips at the right edge take the scalar
// path with the same arithmetic.
//
// The per-thread bodies are __host__ __device__, so they can be run on the host against
// the CPU twin when no GPU is at hand.
#include "kernels/cuda_common.cuh"
#include "kernels/to_rgb.h"

namespace upscaled::kernels {
namespace cudadetail {

struct ToRgbArgs {
  const std::uint8_t* p[3];
  std::ptrdiff_t pitch[3];
  int width, height, cw, ch;
  int shift;         // msb_shift of the layout
  bool interleaved;  // nv12 / p010: U and V words alternate in plane 1
  bool centred_x;    // chroma sited between luma columns (ChromaSiting::center)
  bool bgr;
  float offy;  // chroma_offset_y
  detail::YuvToRgb m;
  detail::CodeScale gs;
};

inline ToRgbArgs make_to_rgb_args(const FrameView& src, const ColorSpec& spec) {
  const LayoutInfo li = layout_info(src.layout);
  const PlaneSize cps = plane_size(src.layout, src.width, src.height, li.yuv ? 1 : 0);
  return {{src.data[0], src.data[1], src.data[2]},
          {src.pitch[0], src.pitch[1], src.pitch[2]},
          src.width,
          src.height,
          cps.width,
          cps.height,
          li.msb_shift,
          li.interleaved_uv,
          spec.siting == ChromaSiting::center,
          li.bgr,
          detail::chroma_offset_y(spec.siting),
          detail::make_yuv_to_rgb(spec, li.bits),
          detail::code_scale(spec.range, li.bits, false)};
}

template <typename S>
UPSCALED_HD const S* sample_row(const std::uint8_t* base, std::ptrdiff_t pitch, int y) {
  return reinterpret_cast<const S*>(base + y * pitch);
}

// U and V of chroma row `row` at columns clamp(c0 - 1 + j), j in [0, 6): what a strip of 8
// luma columns starting at 2 * c0 interpolates from (c0 is a multiple of 4).
template <typename S>
UPSCALED_HD void load_chroma6(const ToRgbArgs& a, int row, int c0, float u[6], float v[6]) {
  const int sh = a.shift, last = a.cw - 1;
  const bool inside = c0 >= 1 && c0 + 4 <= last;
  if (a.interleaved) {
    const S* r = sample_row<S>(a.p[1], a.pitch[1], row);
    if (inside && aligned_to(r + 2 * c0, 8 * sizeof(S))) {
      float w[8];
      load8_aligned(r + 2 * c0, sh, w);
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        u[1 + j] = w[2 * j];
        v[1 + j] = w[2 * j + 1];
      }
      u[0] = static_cast<float>(r[2 * c0 - 2] >> sh);
      v[0] = static_cast<float>(r[2 * c0 - 1] >> sh);
      u[5] = static_cast<float>(r[2 * c0 + 8] >> sh);
      v[5] = static_cast<float>(r[2 * c0 + 9] >> sh);
      return;
    }
#pragma unroll
    for (int j = 0; j < 6; ++j) {
      const int c = clampi(c0 - 1 + j, 0, last);
      u[j] = static_cast<float>(r[2 * c] >> sh);
      v[j] = static_cast<float>(r[2 * c + 1] >> sh);
    }
    return;
  }
  const S* ru = sample_row<S>(a.p[1], a.pitch[1], row);
  const S* rv = sample_row<S>(a.p[2], a.pitch[2], row);
  if (inside && aligned_to(ru + c0, 4 * sizeof(S)) && aligned_to(rv + c0, 4 * sizeof(S))) {
    if constexpr (sizeof(S) == 1) {
      const unsigned wu = *reinterpret_cast<const unsigned*>(ru + c0);
      const unsigned wv = *reinterpret_cast<const unsigned*>(rv + c0);
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        u[1 + j] = static_cast<float>((wu >> (8 * j)) & 0xffu);
        v[1 + j] = static_cast<float>((wv >> (8 * j)) & 0xffu);
      }
    } else {
      const uint2 wu = *reinterpret_cast<const uint2*>(ru + c0);
      const uint2 wv = *reinterpret_cast<const uint2*>(rv + c0);
      u[1] = static_cast<float>((wu.x & 0xffffu) >> sh);
      u[2] = static_cast<float>((wu.x >> 16) >> sh);
      u[3] = static_cast<float>((wu.y & 0xffffu) >> sh);
      u[4] = static_cast<float>((wu.y >> 16) >> sh);
      v[1] = static_cast<float>((wv.x & 0xffffu) >> sh);
      v[2] = static_cast<float>((wv.x >> 16) >> sh);
      v[3] = static_cast<float>((wv.y & 0xffffu) >> sh);
      v[4] = static_cast<float>((wv.y >> 16) >> sh);
    }
    u[0] = static_cast<float>(ru[c0 - 1] >> sh);
    v[0] = static_cast<float>(rv[c0 - 1] >> sh);
    u[5] = static_cast<float>(ru[c0 + 4] >> sh);
    v[5] = static_cast<float>(rv[c0 + 4] >> sh);
    return;
  }
#pragma unroll
  for (int j = 0; j < 6; ++j) {
    const int c = clampi(c0 - 1 + j, 0, last);
    u[j] = static_cast<float>(ru[c] >> sh);
    v[j] = static_cast<float>(rv[c] >> sh);
  }
}

// U and V of chroma row `row` at columns clamp(x0 + j), j in [0, 8) (4:4:4).
template <typename S>
UPSCALED_HD void load_chroma8(const ToRgbArgs& a, int row, int x0, float u[8], float v[8]) {
  load8_clamped(sample_row<S>(a.p[1], a.pitch[1], row), x0, a.cw, a.shift, u);
  load8_clamped(sample_row<S>(a.p[2], a.pitch[2], row), x0, a.cw, a.shift, v);
}

template <typename Out>
UPSCALED_HD void store_rgb8(const Planes3<Out>& dst, int y, int x0, int width, const float Y[8], const float U[8],
                            const float V[8], const detail::YuvToRgb& m) {
  float r[8], g[8], b[8];
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    r[i] = detail::clamp01(m.m[0] * Y[i] + m.m[1] * U[i] + m.m[2] * V[i] + m.off[0]);
    g[i] = detail::clamp01(m.m[3] * Y[i] + m.m[4] * U[i] + m.m[5] * V[i] + m.off[1]);
    b[i] = detail::clamp01(m.m[6] * Y[i] + m.m[7] * U[i] + m.m[8] * V[i] + m.off[2]);
  }
  store8(dst.row(0, y), x0, width, r);
  store8(dst.row(1, y), x0, width, g);
  store8(dst.row(2, y), x0, width, b);
}

// YUV layouts: strip (sx, sy) is luma columns [8 sx, 8 sx + 8) of rows [sy << SY, ...).
// SX/SY: chroma subsampling shifts. Same operation order as yuv_rows() in to_rgb_cpu.cpp:
// vertical chroma interpolation, then horizontal, then the matrix.
template <typename S, int SX, int SY, typename Out>
UPSCALED_HD void to_rgb_yuv_strip(const ToRgbArgs& a, const Planes3<Out>& dst, int sx, int sy) {
  const int x0 = 8 * sx;
#pragma unroll
  for (int dy = 0; dy < (1 << SY); ++dy) {
    const int y = (sy << SY) + dy;
    if (y >= a.height) break;
    float Y[8], U[8], V[8];
    load8_clamped(sample_row<S>(a.p[0], a.pitch[0], y), x0, a.width, a.shift, Y);
    // Chroma rows and weight of this luma row (chroma_lerp, as the CPU computes them).
    const detail::Lerp vl = detail::chroma_lerp(y, SY, a.offy, a.ch);
    if constexpr (SX == 0) {
      float u0[8], v0[8];
      load_chroma8<S>(a, vl.i0, x0, u0, v0);
      if constexpr (SY == 0) {
#pragma unroll
        for (int i = 0; i < 8; ++i)
          U[i] = (1.f - vl.f) * u0[i] + vl.f * u0[i], V[i] = (1.f - vl.f) * v0[i] + vl.f * v0[i];
      } else {
        float u1[8], v1[8];
        load_chroma8<S>(a, vl.i1, x0, u1, v1);
#pragma unroll
        for (int i = 0; i < 8; ++i)
          U[i] = (1.f - vl.f) * u0[i] + vl.f * u1[i], V[i] = (1.f - vl.f) * v0[i] + vl.f * v1[i];
      }
    } else {
      const int c0 = x0 >> 1;
      float uc[6], vc[6];
      {
        float u0[6], v0[6];
        load_chroma6<S>(a, vl.i0, c0, u0, v0);
        if constexpr (SY == 0) {
#pragma unroll
          for (int j = 0; j < 6; ++j)
            uc[j] = (1.f - vl.f) * u0[j] + vl.f * u0[j], vc[j] = (1.f - vl.f) * v0[j] + vl.f * v0[j];
        } else {
          float u1[6], v1[6];
          load_chroma6<S>(a, vl.i1, c0, u1, v1);
#pragma unroll
          for (int j = 0; j < 6; ++j)
            uc[j] = (1.f - vl.f) * u0[j] + vl.f * u1[j], vc[j] = (1.f - vl.f) * v0[j] + vl.f * v1[j];
        }
      }
      // Horizontal: luma column x0 + i sits at chroma position (x0 + i - off) / 2. With x0
      // even this is c0 + i / 2 (co-sited, weight 0 or 0.5) or c0 + (i - 0.5) / 2 (centred,
      // weight 0.75 or 0.25): the values chroma_lerp gives, exactly; uc[j] is column c0 - 1 + j.
#pragma unroll
      for (int i = 0; i < 8; ++i) {
        const int jc = (i >> 1) + 1;    // co-sited: i0 = c0 + i / 2
        const int jm = ((i + 1) >> 1);  // centred: i0 = c0 + floor((i - 0.5) / 2)
        const float fc = (i & 1) ? 0.5f : 0.f;
        const float fm = (i & 1) ? 0.25f : 0.75f;
        const float f = a.centred_x ? fm : fc;
        const float ua = a.centred_x ? uc[jm] : uc[jc], ub = a.centred_x ? uc[jm + 1] : uc[jc + 1];
        const float va = a.centred_x ? vc[jm] : vc[jc], vb = a.centred_x ? vc[jm + 1] : vc[jc + 1];
        U[i] = (1.f - f) * ua + f * ub;
        V[i] = (1.f - f) * va + f * vb;
      }
    }
    store_rgb8(dst, y, x0, a.width, Y, U, V, a.m);
  }
}

// Gray layouts: R = G = B = normalised luma.
template <typename S, typename Out>
UPSCALED_HD void to_rgb_gray_strip(const ToRgbArgs& a, const Planes3<Out>& dst, int sx, int y) {
  const int x0 = 8 * sx;
  float v[8];
  load8_clamped(sample_row<S>(a.p[0], a.pitch[0], y), x0, a.width, 0, v);
#pragma unroll
  for (int i = 0; i < 8; ++i) v[i] = detail::clamp01(v[i] * a.gs.y_scale + a.gs.y_offset);
  store8(dst.row(0, y), x0, a.width, v);
  store8(dst.row(1, y), x0, a.width, v);
  store8(dst.row(2, y), x0, a.width, v);
}

// rgb24 / bgr24: 8 pixels = 24 bytes, three 8-byte loads when aligned.
template <typename Out>
UPSCALED_HD void to_rgb_packed_strip(const ToRgbArgs& a, const Planes3<Out>& dst, int sx, int y) {
  const int x0 = 8 * sx;
  const std::uint8_t* in = a.p[0] + y * a.pitch[0] + 3 * x0;
  std::uint8_t px[24];
  if (x0 + 8 <= a.width && aligned_to(in, 8)) {
#pragma unroll
    for (int i = 0; i < 3; ++i) {
      const uint2 w = reinterpret_cast<const uint2*>(in)[i];
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        px[8 * i + k] = static_cast<std::uint8_t>(w.x >> (8 * k));
        px[8 * i + 4 + k] = static_cast<std::uint8_t>(w.y >> (8 * k));
      }
    }
  } else {
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const int o = 3 * ((x0 + i < a.width ? x0 + i : a.width - 1) - x0);
      px[3 * i] = in[o], px[3 * i + 1] = in[o + 1], px[3 * i + 2] = in[o + 2];
    }
  }
  constexpr float k = 1.f / 255.f;
  float r[8], g[8], b[8];
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    r[i] = (a.bgr ? px[3 * i + 2] : px[3 * i]) * k;
    g[i] = px[3 * i + 1] * k;
    b[i] = (a.bgr ? px[3 * i] : px[3 * i + 2]) * k;
  }
  store8(dst.row(0, y), x0, a.width, r);
  store8(dst.row(1, y), x0, a.width, g);
  store8(dst.row(2, y), x0, a.width, b);
}

}  // namespace cudadetail

namespace {

using namespace cudadetail;

constexpr int kBlockX = 32, kBlockY = 8;

template <typename S, int SX, int SY, typename Out>
__global__ void __launch_bounds__(kBlockX* kBlockY) to_rgb_yuv_kernel(ToRgbArgs a, Planes3<Out> dst) {
  const int sx = blockIdx.x * kBlockX + threadIdx.x, sy = blockIdx.y * kBlockY + threadIdx.y;
  if (8 * sx >= a.width || (sy << SY) >= a.height) return;
  to_rgb_yuv_strip<S, SX, SY, Out>(a, dst, sx, sy);
}

template <typename S, typename Out>
__global__ void __launch_bounds__(kBlockX* kBlockY) to_rgb_gray_kernel(ToRgbArgs a, Planes3<Out> dst) {
  const int sx = blockIdx.x * kBlockX + threadIdx.x, y = blockIdx.y * kBlockY + threadIdx.y;
  if (8 * sx >= a.width || y >= a.height) return;
  to_rgb_gray_strip<S, Out>(a, dst, sx, y);
}

template <typename Out>
__global__ void __launch_bounds__(kBlockX* kBlockY) to_rgb_packed_kernel(ToRgbArgs a, Planes3<Out> dst) {
  const int sx = blockIdx.x * kBlockX + threadIdx.x, y = blockIdx.y * kBlockY + threadIdx.y;
  if (8 * sx >= a.width || y >= a.height) return;
  to_rgb_packed_strip<Out>(a, dst, sx, y);
}

template <typename HostOut>
void launch(const FrameView& src, const ColorSpec& spec, RgbPlanes<HostOut> dst, Stream stream, const char* who) {
  validate_frame(src, who);
  check_rgb_planes(dst, src.width, src.height, who);
  using Out = typename DeviceType<HostOut>::type;
  const LayoutInfo li = layout_info(src.layout);
  const ToRgbArgs a = make_to_rgb_args(src, spec);
  const Planes3<Out> d = planes3<Out>(dst);
  const dim3 block(kBlockX, kBlockY);
  const unsigned gx = div_up(div_up(src.width, 8), kBlockX);
  const cudaStream_t s = to_cuda(stream);
  auto rows = [&](int shift_y) { return dim3(gx, div_up(div_up(src.height, 1 << shift_y), kBlockY)); };
  if (li.packed_rgb) {
    to_rgb_packed_kernel<Out><<<rows(0), block, 0, s>>>(a, d);
  } else if (li.gray) {
    if (li.bytes == 1)
      to_rgb_gray_kernel<std::uint8_t, Out><<<rows(0), block, 0, s>>>(a, d);
    else
      to_rgb_gray_kernel<std::uint16_t, Out><<<rows(0), block, 0, s>>>(a, d);
  } else if (li.chroma_shift_x == 1 && li.chroma_shift_y == 1) {
    if (li.bytes == 1)
      to_rgb_yuv_kernel<std::uint8_t, 1, 1, Out><<<rows(1), block, 0, s>>>(a, d);
    else
      to_rgb_yuv_kernel<std::uint16_t, 1, 1, Out><<<rows(1), block, 0, s>>>(a, d);
  } else if (li.chroma_shift_x == 1) {
    if (li.bytes == 1)
      to_rgb_yuv_kernel<std::uint8_t, 1, 0, Out><<<rows(0), block, 0, s>>>(a, d);
    else
      to_rgb_yuv_kernel<std::uint16_t, 1, 0, Out><<<rows(0), block, 0, s>>>(a, d);
  } else {
    if (li.bytes == 1)
      to_rgb_yuv_kernel<std::uint8_t, 0, 0, Out><<<rows(0), block, 0, s>>>(a, d);
    else
      to_rgb_yuv_kernel<std::uint16_t, 0, 0, Out><<<rows(0), block, 0, s>>>(a, d);
  }
  cuda_check_launch(who);
}

}  // namespace

void to_rgb_cuda(const FrameView& src, const ColorSpec& spec, RgbPlanes<float> dst, Stream stream) {
  launch(src, spec, dst, stream, "to_rgb_cuda(float)");
}

void to_rgb_cuda(const FrameView& src, const ColorSpec& spec, RgbPlanes<Half> dst, Stream stream) {
  launch(src, spec, dst, stream, "to_rgb_cuda(half)");
}

}  // namespace upscaled::kernels
