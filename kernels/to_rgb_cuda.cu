// CUDA twin of to_rgb_cpu, same arithmetic in the same order (color_math.h).
//
// One thread converts a strip of 8 horizontal pixels of one row with few wide accesses, all
// loads issued before any value is used (one memory round trip per thread): 8 luma samples
// in one 8/16-byte load, the 6 chroma columns a strip needs from each of its two chroma rows
// (4 in one load plus the two neighbours), then 16/32-byte stores of 8 RGB values per plane.
// Frames whose planes are not all 16-byte aligned in base and pitch (any pitch is legal;
// decided once on the host, not per row and thread) and strips at the picture's edges take a
// scalar path with the same arithmetic.
//
// The per-thread bodies are __host__ __device__, so they can be run on the host against
// the CPU twin when no GPU is at hand.
#include "kernels/cuda_common.cuh"
#include "kernels/cuda_modules.h"
#include "kernels/to_rgb.h"

#include <stdexcept>

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
  bool vec;        // every source and destination plane's base and pitch 16-byte aligned
  bool centred_y;  // chroma_offset_y is 0.5 (else 0)
  detail::YuvToRgb m;
  detail::CodeScale gs;
};

inline ToRgbArgs make_to_rgb_args(const FrameView& src, const ColorSpec& spec, bool dst_aligned) {
  const LayoutInfo li = layout_info(src.layout);
  const detail::YuvToRgb m = detail::make_yuv_to_rgb(spec, li.bits);
  // store_rgb8 leaves out the two terms every Y'CbCr matrix has as zero.
  if (m.m[1] != 0.f || m.m[8] != 0.f) throw std::logic_error("to_rgb_cuda: matrix with a Cb term in R or Cr in B");
  const PlaneSize cps = plane_size(src.layout, src.width, src.height, li.yuv ? 1 : 0);
  bool vec = dst_aligned;
  for (int p = 0; p < li.planes; ++p) vec = vec && aligned16(src.data[p], src.pitch[p]);
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
          vec,
          detail::chroma_offset_y(spec.siting) == 0.5f,
          m,
          detail::code_scale(spec.range, li.bits, false)};
}

// detail::chroma_lerp for luma row y of a vertically subsampled layout, in integers: the
// chroma position (y - offset) / 2 with offset 0 or 0.5 has the floor (y - 1) >> 1 (centred)
// or y >> 1 and the fraction 0.75 / 0.25 or 0 / 0.5 by the row's parity, the same values
// exactly, without the float <-> int conversions (slow pipes) of the general formula.
UPSCALED_HD detail::Lerp chroma_rows(int y, bool centred, int ch) {
  const int fl = centred ? (y - 1) >> 1 : y >> 1;
  const float f = centred ? ((y & 1) ? 0.25f : 0.75f) : ((y & 1) ? 0.5f : 0.f);
  const int i0 = fl < 0 ? 0 : (fl >= ch ? ch - 1 : fl);
  const int i1 = fl + 1 >= ch ? ch - 1 : fl + 1;  // fl + 1 >= 0 as y >= 0
  return {i0, i1, f};
}

template <typename S>
UPSCALED_HD const S* sample_row(const std::uint8_t* base, std::ptrdiff_t pitch, int y) {
  return reinterpret_cast<const S*>(base + y * pitch);
}

// Raw words of 4 and 8 consecutive samples (one load each), unpacked to floats later, so
// that a thread issues all of its loads before it uses any.
template <typename S>
struct Words4 {
  using type = std::conditional_t<sizeof(S) == 1, unsigned, uint2>;
};
template <typename S>
struct Words8 {
  using type = std::conditional_t<sizeof(S) == 1, uint2, uint4>;
};
template <typename S>
UPSCALED_HD typename Words4<S>::type ld4(const S* p) {
  return *reinterpret_cast<const typename Words4<S>::type*>(p);
}
template <typename S>
UPSCALED_HD typename Words8<S>::type ld8(const S* p) {
  return *reinterpret_cast<const typename Words8<S>::type*>(p);
}
UPSCALED_HD void unpack(unsigned w, int /*shift*/, float* out) {
#pragma unroll
  for (int i = 0; i < 4; ++i) out[i] = byte_to_float(w, i);
}
UPSCALED_HD void unpack(uint2 w, int shift, float* out, std::uint8_t /*tag*/) {
  unpack(w.x, shift, out);
  unpack(w.y, shift, out + 4);
}
UPSCALED_HD void unpack16(unsigned w, int shift, float* out) {
  out[0] = u2f((w & 0xffffu) >> shift);
  out[1] = u2f((w >> 16) >> shift);
}
UPSCALED_HD void unpack(uint2 w, int shift, float* out, std::uint16_t /*tag*/) {
  unpack16(w.x, shift, out);
  unpack16(w.y, shift, out + 2);
}
UPSCALED_HD void unpack(uint4 w, int shift, float* out, std::uint16_t /*tag*/) {
  unpack16(w.x, shift, out);
  unpack16(w.y, shift, out + 2);
  unpack16(w.z, shift, out + 4);
  unpack16(w.w, shift, out + 6);
}
template <typename S>
UPSCALED_HD void unpack4(typename Words4<S>::type w, int shift, float* out) {
  if constexpr (sizeof(S) == 1)
    unpack(w, shift, out);
  else
    unpack(w, shift, out, S{});
}
template <typename S>
UPSCALED_HD void unpack8(typename Words8<S>::type w, int shift, float* out) {
  unpack(w, shift, out, S{});
}

// The samples a YUV strip converts: luma x0 .. x0 + 7 of row y and, from chroma rows r0 and
// r1, U and V at columns c0 - 1 + j, j in [0, 6) (SX = 1, c0 = x0 / 2) or x0 + j, j in [0, 8)
// (SX = 0), every index clamped into its plane. NR: chroma rows to read (1 when r0 == r1 by
// construction). Fast path: the strip lies inside the picture and every row address is
// aligned for its vector loads; all loads are issued first, in straight-line code.
template <typename S, int SX, int NR>
UPSCALED_HD void load_strip(const ToRgbArgs& a, int y, int x0, int r0, int r1, float Y[8], float u[NR][8],
                            float v[NR][8]) {
  const int sh = sizeof(S) == 1 ? 0 : a.shift;  // 8-bit layouts have no shift: no shift instructions
  const S* ly = sample_row<S>(a.p[0], a.pitch[0], y);
  const int rows[2] = {r0, r1};
  if constexpr (SX == 1) {
    const int c0 = x0 >> 1, last = a.cw - 1;
    const bool fast = a.vec && x0 + 8 <= a.width && c0 >= 1 && c0 + 4 <= last;
    if (a.interleaved) {
      if (fast) {
        const auto wy = ld8(ly + x0);
        typename Words8<S>::type wm[NR];
        S e[NR][4];
#pragma unroll
        for (int r = 0; r < NR; ++r) {
          const S* q = sample_row<S>(a.p[1], a.pitch[1], rows[r]);
          wm[r] = ld8(q + 2 * c0);
          e[r][0] = q[2 * c0 - 2], e[r][1] = q[2 * c0 - 1], e[r][2] = q[2 * c0 + 8], e[r][3] = q[2 * c0 + 9];
        }
        unpack8<S>(wy, sh, Y);
#pragma unroll
        for (int r = 0; r < NR; ++r) {
          float m[8];
          unpack8<S>(wm[r], sh, m);
#pragma unroll
          for (int j = 0; j < 4; ++j) u[r][1 + j] = m[2 * j], v[r][1 + j] = m[2 * j + 1];
          u[r][0] = u2f(e[r][0] >> sh), v[r][0] = u2f(e[r][1] >> sh);
          u[r][5] = u2f(e[r][2] >> sh), v[r][5] = u2f(e[r][3] >> sh);
        }
        return;
      }
    } else {
      if (fast) {
        const auto wy = ld8(ly + x0);
        typename Words4<S>::type wu[NR], wv[NR];
        S e[NR][4];
#pragma unroll
        for (int r = 0; r < NR; ++r) {
          const S* qu = sample_row<S>(a.p[1], a.pitch[1], rows[r]);
          const S* qv = sample_row<S>(a.p[2], a.pitch[2], rows[r]);
          wu[r] = ld4(qu + c0), wv[r] = ld4(qv + c0);
          e[r][0] = qu[c0 - 1], e[r][1] = qv[c0 - 1], e[r][2] = qu[c0 + 4], e[r][3] = qv[c0 + 4];
        }
        unpack8<S>(wy, sh, Y);
#pragma unroll
        for (int r = 0; r < NR; ++r) {
          unpack4<S>(wu[r], sh, &u[r][1]);
          unpack4<S>(wv[r], sh, &v[r][1]);
          u[r][0] = u2f(e[r][0] >> sh), v[r][0] = u2f(e[r][1] >> sh);
          u[r][5] = u2f(e[r][2] >> sh), v[r][5] = u2f(e[r][3] >> sh);
        }
        return;
      }
    }
    // Scalar path: clamped indices, same values.
#pragma unroll
    for (int i = 0; i < 8; ++i) Y[i] = u2f(ly[x0 + i < a.width ? x0 + i : a.width - 1] >> sh);
#pragma unroll
    for (int r = 0; r < NR; ++r) {
#pragma unroll
      for (int j = 0; j < 6; ++j) {
        const int cc = clampi(c0 - 1 + j, 0, last);
        if (a.interleaved) {
          const S* q = sample_row<S>(a.p[1], a.pitch[1], rows[r]);
          u[r][j] = u2f(q[2 * cc] >> sh), v[r][j] = u2f(q[2 * cc + 1] >> sh);
        } else {
          u[r][j] = u2f(sample_row<S>(a.p[1], a.pitch[1], rows[r])[cc] >> sh);
          v[r][j] = u2f(sample_row<S>(a.p[2], a.pitch[2], rows[r])[cc] >> sh);
        }
      }
    }
  } else {  // 4:4:4: planar chroma at the luma columns
    if (a.vec && x0 + 8 <= a.width) {
      const auto wy = ld8(ly + x0);
      typename Words8<S>::type wu[NR], wv[NR];
#pragma unroll
      for (int r = 0; r < NR; ++r) {
        wu[r] = ld8(sample_row<S>(a.p[1], a.pitch[1], rows[r]) + x0);
        wv[r] = ld8(sample_row<S>(a.p[2], a.pitch[2], rows[r]) + x0);
      }
      unpack8<S>(wy, sh, Y);
#pragma unroll
      for (int r = 0; r < NR; ++r) unpack8<S>(wu[r], sh, u[r]), unpack8<S>(wv[r], sh, v[r]);
      return;
    }
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const int xx = x0 + i < a.width ? x0 + i : a.width - 1;
      Y[i] = u2f(ly[xx] >> sh);
#pragma unroll
      for (int r = 0; r < NR; ++r) {
        u[r][i] = u2f(sample_row<S>(a.p[1], a.pitch[1], rows[r])[xx] >> sh);
        v[r][i] = u2f(sample_row<S>(a.p[2], a.pitch[2], rows[r])[xx] >> sh);
      }
    }
  }
}

// The Y'CbCr matrices have no Cb term in R and no Cr term in B (make_yuv_to_rgb; checked in
// make_to_rgb_args), so a pixel takes 7 FMAs instead of 9 multiply-adds and 3 additions, and
// the clamp rides on the last FMA (saturation). Differs from the CPU twin's order by float
// rounding only (the tests' 2e-5).
template <typename Out>
UPSCALED_HD void store_rgb8(const Planes3<Out>& dst, int y, int x0, int width, bool vec, const float Y[8],
                            const float U[8], const float V[8], const detail::YuvToRgb& m) {
  float r[8], g[8], b[8];
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    r[i] = saturate01(fmaf(m.m[2], V[i], fmaf(m.m[0], Y[i], m.off[0])));
    g[i] = saturate01(fmaf(m.m[5], V[i], fmaf(m.m[4], U[i], fmaf(m.m[3], Y[i], m.off[1]))));
    b[i] = saturate01(fmaf(m.m[7], U[i], fmaf(m.m[6], Y[i], m.off[2])));
  }
  store8(dst.row(0, y), x0, width, vec, r);
  store8(dst.row(1, y), x0, width, vec, g);
  store8(dst.row(2, y), x0, width, vec, b);
}

// YUV layouts: strip (sx, y) is luma columns [8 sx, 8 sx + 8) of row y. SX/SY: chroma
// subsampling shifts. Same operation order as yuv_rows() in to_rgb_cpu.cpp: vertical chroma
// interpolation, then horizontal, then the matrix. One row per thread, all loads first.
template <typename S, int SX, int SY, bool CX, typename Out>
UPSCALED_HD void to_rgb_yuv_strip(const ToRgbArgs& a, const Planes3<Out>& dst, int sx, int y) {
  constexpr int NR = SY == 1 ? 2 : 1;  // without vertical subsampling both rows are row y
  const int x0 = 8 * sx;
  // Chroma rows and weight of this luma row (chroma_lerp, as the CPU computes them).
  const detail::Lerp vl = SY == 1 ? chroma_rows(y, a.centred_y, a.ch) : detail::Lerp{y, y, 0.f};
  float Y[8], u[NR][8], v[NR][8];
  load_strip<S, SX, NR>(a, y, x0, vl.i0, vl.i1, Y, u, v);
  constexpr int n = SX == 1 ? 6 : 8;
  float uc[8], vc[8];  // vertically interpolated: (1 - f) * row i0 + f * row i1
#pragma unroll
  for (int j = 0; j < n; ++j) {
    uc[j] = (1.f - vl.f) * u[0][j] + vl.f * u[NR - 1][j];
    vc[j] = (1.f - vl.f) * v[0][j] + vl.f * v[NR - 1][j];
  }
  float U[8], V[8];
  if constexpr (SX == 0) {
#pragma unroll
    for (int i = 0; i < 8; ++i) U[i] = uc[i], V[i] = vc[i];
  } else {
    // Horizontal: luma column x0 + i sits at chroma position (x0 + i - off) / 2. With x0
    // even this is c0 + i / 2 (co-sited, weight 0 or 0.5) or c0 + (i - 0.5) / 2 (centred,
    // weight 0.75 or 0.25): the values chroma_lerp gives, exactly; uc[j] is column c0 - 1 + j.
    // The siting is a template parameter, so weights are constants and a co-sited even
    // column (weight 0) is a copy: (1 - 0) * a + 0 * b is a, bit for bit.
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      if constexpr (CX) {
        const int jm = (i + 1) >> 1;  // i0 = c0 + floor((i - 0.5) / 2)
        const float f = (i & 1) ? 0.25f : 0.75f;
        U[i] = (1.f - f) * uc[jm] + f * uc[jm + 1];
        V[i] = (1.f - f) * vc[jm] + f * vc[jm + 1];
      } else if (i & 1) {
        const int jc = (i >> 1) + 1;  // i0 = c0 + i / 2
        U[i] = 0.5f * uc[jc] + 0.5f * uc[jc + 1];
        V[i] = 0.5f * vc[jc] + 0.5f * vc[jc + 1];
      } else {
        U[i] = uc[(i >> 1) + 1], V[i] = vc[(i >> 1) + 1];
      }
    }
  }
  store_rgb8(dst, y, x0, a.width, a.vec, Y, U, V, a.m);
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
    r[i] = u2f(a.bgr ? px[3 * i + 2] : px[3 * i]) * k;
    g[i] = u2f(px[3 * i + 1]) * k;
    b[i] = u2f(a.bgr ? px[3 * i] : px[3 * i + 2]) * k;
  }
  store8(dst.row(0, y), x0, a.width, r);
  store8(dst.row(1, y), x0, a.width, g);
  store8(dst.row(2, y), x0, a.width, b);
}

}  // namespace cudadetail

namespace {

using namespace cudadetail;

constexpr int kBlockX = 32, kBlockY = 8;

// MINB: blocks per multiprocessor the register budget must allow (1: unconstrained).
template <typename S, int SX, int SY, bool CX, typename Out, int MINB = 1>
__global__ void __launch_bounds__(kBlockX* kBlockY, MINB) to_rgb_yuv_kernel(ToRgbArgs a, Planes3<Out> dst) {
  const int sx = blockIdx.x * kBlockX + threadIdx.x, y = blockIdx.y * kBlockY + threadIdx.y;
  if (8 * sx >= a.width || y >= a.height) return;
  to_rgb_yuv_strip<S, SX, SY, CX, Out>(a, dst, sx, y);
}

// One instantiation per sample size and horizontal siting; CX exists only with horizontal
// subsampling, so 4:4:4 instantiates the CX = false kernels alone.
template <int SX, int SY, typename Out, int MINB = 1>
void launch_yuv(const ToRgbArgs& a, const Planes3<Out>& d, int bytes, dim3 grid, dim3 block, cudaStream_t s) {
  auto go = [&](auto cx) {
    constexpr bool CX = decltype(cx)::value;
    if (bytes == 1)
      to_rgb_yuv_kernel<std::uint8_t, SX, SY, CX, Out, MINB><<<grid, block, 0, s>>>(a, d);
    else
      to_rgb_yuv_kernel<std::uint16_t, SX, SY, CX, Out, MINB><<<grid, block, 0, s>>>(a, d);
  };
  if constexpr (SX == 1) {
    if (a.centred_x) return go(std::true_type{});
  }
  go(std::false_type{});
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
  const Planes3<Out> d = planes3<Out>(dst);
  bool dst_aligned = true;
  for (int c = 0; c < 3; ++c) dst_aligned = dst_aligned && aligned16(d.p[c], d.pitch[c]);
  const ToRgbArgs a = make_to_rgb_args(src, spec, dst_aligned);
  const dim3 block(kBlockX, kBlockY);
  const unsigned gx = div_up(div_up(src.width, 8), kBlockX);
  const cudaStream_t s = to_cuda(stream);
  const dim3 grid(gx, div_up(src.height, kBlockY));
  if (li.packed_rgb) {
    to_rgb_packed_kernel<Out><<<grid, block, 0, s>>>(a, d);
  } else if (li.gray) {
    if (li.bytes == 1)
      to_rgb_gray_kernel<std::uint8_t, Out><<<grid, block, 0, s>>>(a, d);
    else
      to_rgb_gray_kernel<std::uint16_t, Out><<<grid, block, 0, s>>>(a, d);
  } else if (li.chroma_shift_x == 1 && li.chroma_shift_y == 1) {
    // float16 4:2:0 bounded to 64 registers (4 blocks per multiprocessor instead of 2-3 at the
    // 80-92 the compiler takes otherwise): 11% less time summed over the four 4:2:0 layouts
    // at 3840x2160 on the H200, measured side by side (docs/benchmarks.md). float32 output
    // keeps the unconstrained kernel (84% of copy; the bound was not measured there).
    constexpr int minb = std::is_same_v<Out, __half> ? 4 : 1;
    launch_yuv<1, 1, Out, minb>(a, d, li.bytes, grid, block, s);
  } else if (li.chroma_shift_x == 1) {
    launch_yuv<1, 0, Out>(a, d, li.bytes, grid, block, s);
  } else {
    launch_yuv<0, 0, Out>(a, d, li.bytes, grid, block, s);
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

namespace detail {
const void* to_rgb_module() {  // cuda_modules.h
  return reinterpret_cast<const void*>(&to_rgb_packed_kernel<float>);
}
}  // namespace detail

}  // namespace upscaled::kernels
