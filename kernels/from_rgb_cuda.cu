// CUDA twin of from_rgb_cpu, same arithmetic in the same order.
//
// One thread handles a strip of 8 horizontal pixels and, for 4:2:0, both luma rows of its
// chroma row: it reads 8 RGB values per plane and row with one 16/32-byte load (plus the
// left neighbour column and, for co-sited vertical chroma, the row above, which the filters
// need), writes its 8 luma codes per row and its 4 chroma cells with one 4..16-byte store
// each, so every output byte has one writer. Unaligned rows (any pitch is legal) and the
// strip at the right edge use scalar accesses with the same arithmetic.
//
// The per-thread bodies are __host__ __device__, so they can be run on the host against
// the CPU twin when no GPU is at hand.
#include "kernels/cuda_common.cuh"
#include "kernels/from_rgb.h"
#include "kernels/to_rgb.h"

namespace upscaled::kernels {
namespace cudadetail {

struct FromRgbArgs {
  std::uint8_t* p[3];
  std::ptrdiff_t pitch[3];
  int width, height, cw, ch;
  int shift;  // msb_shift
  bool yuv, interleaved, bgr, dither;
  detail::DownTaps th, tv;  // chroma filters (horizontal, vertical)
  detail::RgbToYuv m;
};

inline FromRgbArgs make_from_rgb_args(const MutableFrameView& dst, const ColorSpec& spec, Dither dither) {
  const LayoutInfo li = layout_info(dst.layout);
  const PlaneSize cps = plane_size(dst.layout, dst.width, dst.height, li.yuv ? 1 : 0);
  return {{dst.data[0], dst.data[1], dst.data[2]},
          {dst.pitch[0], dst.pitch[1], dst.pitch[2]},
          dst.width,
          dst.height,
          cps.width,
          cps.height,
          li.msb_shift,
          li.yuv,
          li.interleaved_uv,
          li.bgr,
          dither == Dither::ordered && li.bits == 8,
          detail::down_taps(li.chroma_shift_x, spec.siting == ChromaSiting::center),
          detail::down_taps(li.chroma_shift_y, spec.siting != ChromaSiting::topleft),
          detail::make_rgb_to_yuv(spec, li.bits)};
}

UPSCALED_HD float sane01(float v) {
  return v == v ? detail::clamp01(v) : 0.f;
}

template <typename S>
UPSCALED_HD S* code_row(std::uint8_t* base, std::ptrdiff_t pitch, int y) {
  return reinterpret_cast<S*>(base + y * pitch);
}

// RGB row y (clamped) at columns x0 - 1 .. x0 + 7 (clamped into the row), sanitised:
// v[c][0] is column x0 - 1, v[c][1 + i] column x0 + i.
template <typename In>
UPSCALED_HD void load_rgb9(const Planes3<In>& src, int y, int x0, int width, float v[3][9]) {
#pragma unroll
  for (int c = 0; c < 3; ++c) {
    const In* row = src.row(c, y);
    load8_clamped(row, x0, width, 0, &v[c][1]);
    v[c][0] = to_f(row[x0 > 0 ? x0 - 1 : 0]);
#pragma unroll
    for (int i = 0; i < 9; ++i) v[c][i] = sane01(v[c][i]);
  }
}

template <typename S>
UPSCALED_HD void luma8(const FromRgbArgs& a, int y, int x0, const float v[3][9]) {
  unsigned q[8];
  const detail::RgbToYuv& m = a.m;
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const float t = a.dither ? detail::bayer8(x0 + i, y) : 0.5f;
    const float code = m.m[0] * v[0][1 + i] + m.m[1] * v[1][1 + i] + m.m[2] * v[2][1 + i] + m.off[0];
    q[i] = static_cast<unsigned>(detail::quantise(code, t, m.max_code) << a.shift);
  }
  store_codes<S, 8>(code_row<S>(a.p[0], a.pitch[0], y), x0, a.width, q);
}

// Chroma of cells [c0, c0 + n) of chroma row cy from the vertically filtered RGB columns
// acc[c][0 .. 9) (column x0 - 1 + j, as load_rgb9) or, without horizontal subsampling,
// acc[c][1 + i]. Same order as chroma_row() in from_rgb_cpu.cpp: vertical sums first, then
// horizontal, then the chroma rows of the matrix.
template <typename S, int SX>
UPSCALED_HD void chroma_cells(const FromRgbArgs& a, int cy, int x0, const float acc[3][9]) {
  constexpr int n = 8 >> SX;
  const int c0 = x0 >> SX;
  float R[n], G[n], B[n];
  if constexpr (SX == 0) {
#pragma unroll
    for (int i = 0; i < n; ++i) R[i] = acc[0][1 + i], G[i] = acc[1][1 + i], B[i] = acc[2][1 + i];
  } else {
    // Cell i covers luma columns x0 + 2i (+ first + k); its taps in acc are at 2i + 1 +
    // first + k: first = -1 (co-sited, [1 2 1]) or 0 (centred, [1 1]).
    const bool three = a.th.n == 3;
#pragma unroll
    for (int i = 0; i < n; ++i) {
      const int j = 2 * i + (three ? 0 : 1);
      float r = a.th.w[0] * acc[0][j] + a.th.w[1] * acc[0][j + 1];
      float g = a.th.w[0] * acc[1][j] + a.th.w[1] * acc[1][j + 1];
      float b = a.th.w[0] * acc[2][j] + a.th.w[1] * acc[2][j + 1];
      if (three) {
        r += a.th.w[2] * acc[0][j + 2];
        g += a.th.w[2] * acc[1][j + 2];
        b += a.th.w[2] * acc[2][j + 2];
      }
      R[i] = r, G[i] = g, B[i] = b;
    }
  }
  const detail::RgbToYuv& m = a.m;
  unsigned qu[n], qv[n];
#pragma unroll
  for (int i = 0; i < n; ++i) {
    const int cx = c0 + i;
    const float u = m.m[3] * R[i] + m.m[4] * G[i] + m.m[5] * B[i] + m.off[1];
    const float v = m.m[6] * R[i] + m.m[7] * G[i] + m.m[8] * B[i] + m.off[2];
    qu[i] = static_cast<unsigned>(detail::quantise(u, a.dither ? detail::bayer8(cx, cy) : 0.5f, m.max_code) << a.shift);
    qv[i] = static_cast<unsigned>(detail::quantise(v, a.dither ? detail::bayer8(cx + 4, cy + 2) : 0.5f, m.max_code)
                                  << a.shift);
  }
  if (a.interleaved) {
    unsigned uv[2 * n];
#pragma unroll
    for (int i = 0; i < n; ++i) uv[2 * i] = qu[i], uv[2 * i + 1] = qv[i];
    store_codes<S, 2 * n>(code_row<S>(a.p[1], a.pitch[1], cy), 2 * c0, 2 * a.cw, uv);
  } else {
    store_codes<S, n>(code_row<S>(a.p[1], a.pitch[1], cy), c0, a.cw, qu);
    store_codes<S, n>(code_row<S>(a.p[2], a.pitch[2], cy), c0, a.cw, qv);
  }
}

// YUV and gray layouts: strip (sx, cy) = luma columns [8 sx, 8 sx + 8) of the luma rows of
// chroma row cy (rows [cy << SY, (cy + 1) << SY)). Rows are streamed in the order of the
// vertical chroma taps (the CPU's summation order); each luma row's codes are written when
// the row is first read.
template <typename S, int SX, int SY, typename In>
UPSCALED_HD void from_rgb_strip(const FromRgbArgs& a, const Planes3<In>& src, int sx, int cy) {
  const int x0 = 8 * sx;
  float v[3][9];
  if constexpr (SY == 0) {
    load_rgb9(src, cy, x0, a.width, v);
    luma8<S>(a, cy, x0, v);
    if (!a.yuv) return;
      // tv = {1, 0, {1}}: the CPU's sum is 0 + 1 * v.
#pragma unroll
    for (int c = 0; c < 3; ++c)
#pragma unroll
      for (int j = 0; j < 9; ++j) v[c][j] = 0.f + a.tv.w[0] * v[c][j];
    chroma_cells<S, SX>(a, cy, x0, v);
  } else {
    float acc[3][9];
#pragma unroll
    for (int c = 0; c < 3; ++c)
#pragma unroll
      for (int j = 0; j < 9; ++j) acc[c][j] = 0.f;
    const int y0 = cy << SY, ybase = y0 + a.tv.first;
    bool seen0 = false, seen1 = false;
#pragma unroll
    for (int k = 0; k < 3; ++k) {  // tv.n is 2 or 3; unrolled so that every index is static
      if (k >= a.tv.n) break;
      const int y = clampi(ybase + k, 0, a.height - 1);
      load_rgb9(src, y, x0, a.width, v);
      if ((y == y0 && !seen0) || (y == y0 + 1 && !seen1)) luma8<S>(a, y, x0, v);
      seen0 = seen0 || y == y0;
      seen1 = seen1 || y == y0 + 1;
      const float wk = a.tv.w[k];
#pragma unroll
      for (int c = 0; c < 3; ++c)
#pragma unroll
        for (int j = 0; j < 9; ++j) acc[c][j] += wk * v[c][j];
    }
    chroma_cells<S, SX>(a, cy, x0, acc);
  }
}

// rgb24 / bgr24: 8 pixels = 24 bytes.
template <typename In>
UPSCALED_HD void from_rgb_packed_strip(const FromRgbArgs& a, const Planes3<In>& src, int sx, int y) {
  const int x0 = 8 * sx;
  float v[3][9];
  load_rgb9(src, y, x0, a.width, v);
  std::uint8_t px[24];
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const float t = a.dither ? detail::bayer8(x0 + i, y) : 0.5f;
    const auto r = static_cast<std::uint8_t>(detail::quantise(v[0][1 + i] * 255.f, t, 255.f));
    const auto g = static_cast<std::uint8_t>(detail::quantise(v[1][1 + i] * 255.f, t, 255.f));
    const auto b = static_cast<std::uint8_t>(detail::quantise(v[2][1 + i] * 255.f, t, 255.f));
    px[3 * i] = a.bgr ? b : r;
    px[3 * i + 1] = g;
    px[3 * i + 2] = a.bgr ? r : b;
  }
  std::uint8_t* out = a.p[0] + y * a.pitch[0] + 3 * x0;
  if (x0 + 8 <= a.width && aligned_to(out, 8)) {
#pragma unroll
    for (int i = 0; i < 3; ++i) {
      unsigned w0 = 0, w1 = 0;
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        w0 |= static_cast<unsigned>(px[8 * i + k]) << (8 * k);
        w1 |= static_cast<unsigned>(px[8 * i + 4 + k]) << (8 * k);
      }
      reinterpret_cast<uint2*>(out)[i] = make_uint2(w0, w1);
    }
    return;
  }
  for (int i = 0; i < 8 && x0 + i < a.width; ++i) {
    out[3 * i] = px[3 * i];
    out[3 * i + 1] = px[3 * i + 1];
    out[3 * i + 2] = px[3 * i + 2];
  }
}

}  // namespace cudadetail

namespace {

using namespace cudadetail;

constexpr int kBlockX = 32, kBlockY = 8;

// 4:2:0 strips hold three RGB rows of 9 columns; 3 blocks per multiprocessor keep that at
// 80 registers without spilling.
template <typename S, int SX, int SY, typename In>
__global__ void __launch_bounds__(kBlockX* kBlockY, 3) from_rgb_kernel(FromRgbArgs a, Planes3<In> src) {
  const int sx = blockIdx.x * kBlockX + threadIdx.x, cy = blockIdx.y * kBlockY + threadIdx.y;
  if (8 * sx >= a.width || (cy << SY) >= a.height) return;
  from_rgb_strip<S, SX, SY, In>(a, src, sx, cy);
}

template <typename In>
__global__ void __launch_bounds__(kBlockX* kBlockY) from_rgb_packed_kernel(FromRgbArgs a, Planes3<In> src) {
  const int sx = blockIdx.x * kBlockX + threadIdx.x, y = blockIdx.y * kBlockY + threadIdx.y;
  if (8 * sx >= a.width || y >= a.height) return;
  from_rgb_packed_strip<In>(a, src, sx, y);
}

template <typename HostIn>
void launch(RgbPlanes<HostIn> src, const ColorSpec& spec, const MutableFrameView& dst, Dither dither, Stream stream,
            const char* who) {
  validate_frame(dst, who);
  check_rgb_planes(src, dst.width, dst.height, who);
  using In = typename DeviceType<HostIn>::type;
  const LayoutInfo li = layout_info(dst.layout);
  const FromRgbArgs a = make_from_rgb_args(dst, spec, dither);
  const Planes3<In> s = planes3<In>(src);
  const dim3 block(kBlockX, kBlockY);
  const unsigned gx = div_up(div_up(dst.width, 8), kBlockX);
  const cudaStream_t st = to_cuda(stream);
  auto rows = [&](int shift_y) { return dim3(gx, div_up(div_up(dst.height, 1 << shift_y), kBlockY)); };
  if (li.packed_rgb) {
    from_rgb_packed_kernel<In><<<rows(0), block, 0, st>>>(a, s);
  } else if (li.chroma_shift_x == 1 && li.chroma_shift_y == 1) {
    if (li.bytes == 1)
      from_rgb_kernel<std::uint8_t, 1, 1, In><<<rows(1), block, 0, st>>>(a, s);
    else
      from_rgb_kernel<std::uint16_t, 1, 1, In><<<rows(1), block, 0, st>>>(a, s);
  } else if (li.chroma_shift_x == 1) {
    if (li.bytes == 1)
      from_rgb_kernel<std::uint8_t, 1, 0, In><<<rows(0), block, 0, st>>>(a, s);
    else
      from_rgb_kernel<std::uint16_t, 1, 0, In><<<rows(0), block, 0, st>>>(a, s);
  } else {  // 4:4:4 and gray (a.yuv false: luma only)
    if (li.bytes == 1)
      from_rgb_kernel<std::uint8_t, 0, 0, In><<<rows(0), block, 0, st>>>(a, s);
    else
      from_rgb_kernel<std::uint16_t, 0, 0, In><<<rows(0), block, 0, st>>>(a, s);
  }
  cuda_check_launch(who);
}

}  // namespace

void from_rgb_cuda(RgbPlanes<const float> src, const ColorSpec& spec, const MutableFrameView& dst, Dither dither,
                   Stream stream) {
  launch(src, spec, dst, dither, stream, "from_rgb_cuda(float)");
}

void from_rgb_cuda(RgbPlanes<const Half> src, const ColorSpec& spec, const MutableFrameView& dst, Dither dither,
                   Stream stream) {
  launch(src, spec, dst, dither, stream, "from_rgb_cuda(half)");
}

}  // namespace upscaled::kernels
