// CUDA twin of from_rgb_cpu, same arithmetic in the same order (each code is offset +
// rounding threshold + the matrix row's products, added left to right: three FMAs here).
//
// One thread handles a strip of 8 horizontal pixels and, for 4:2:0, both luma rows of its
// chroma row: it reads 8 RGB values per plane and row with one 16/32-byte load (plus the
// left neighbour column and, for co-sited vertical chroma, the row above, which the filters
// need), all of them before it uses any (one memory round trip per thread), then writes its
// 8 luma codes per row and its 4 chroma cells with one 4..16-byte store each, so every
// output byte has one writer. Unaligned rows (any pitch is legal) and the strips at the left
// and right edges use scalar accesses with the same arithmetic. Whether rows allow vectors is
// decided once on the host (every plane's base and pitch a multiple of 16 bytes), not per
// row and thread.
//
// Instructions per output byte, not memory, bounded these kernels (Nsight Compute: SM 68-87%
// busy, DRAM 16-41%), so the arithmetic is shaped for the fast pipes: float16 inputs are
// clamped two at a time (one saturating half2 add) before they are widened, each code's
// offset and threshold start its FMA chain, and codes are packed for the stores from the
// bits of their rounding add (code_bits) with byte permutes instead of integer
// subtractions, shifts and ors.
//
// The per-thread bodies are __host__ __device__, so they can be run on the host against
// the CPU twin when no GPU is at hand.
#include "kernels/cuda_common.cuh"
#include "kernels/cuda_modules.h"
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
  bool vec;                 // every source and destination plane's base and pitch 16-byte aligned
  detail::DownTaps th, tv;  // chroma filters (horizontal, vertical)
  detail::RgbToYuv m;
  float bias[3];  // m.off plus the rounding threshold 0.5 (without dither; with it, off alone)
};

template <typename In>
FromRgbArgs make_from_rgb_args(const Planes3<In>& src, const MutableFrameView& dst, const ColorSpec& spec,
                               Dither dither) {
  const LayoutInfo li = layout_info(dst.layout);
  const PlaneSize cps = plane_size(dst.layout, dst.width, dst.height, li.yuv ? 1 : 0);
  bool vec = true;
  for (int c = 0; c < 3; ++c) vec = vec && aligned16(src.p[c], src.pitch[c]);
  for (int p = 0; p < li.planes; ++p) vec = vec && aligned16(dst.data[p], dst.pitch[p]);
  const bool dith = dither == Dither::ordered && li.bits == 8;
  const detail::RgbToYuv m = detail::make_rgb_to_yuv(spec, li.bits);
  const float t = dith ? 0.f : 0.5f;
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
          dith,
          vec,
          detail::down_taps(li.chroma_shift_x, spec.siting == ChromaSiting::center),
          detail::down_taps(li.chroma_shift_y, spec.siting != ChromaSiting::topleft),
          m,
          {m.off[0] + t, m.off[1] + t, m.off[2] + t}};
}

// Ordered-dither thresholds (detail::bayer8) from a table in constant memory: the threads of
// a warp share their row and, for 8-pixel strips, the column of each unrolled pixel, so a
// lookup is one broadcast load instead of ~10 integer operations and an int -> float
// conversion. Same values (ConvertCpu.BayerTableMatchesBayer8).
__constant__ detail::BayerTable c_bayer = detail::make_bayer_table();

UPSCALED_HD float bayer_threshold(int x, int y) {
#ifdef __CUDA_ARCH__
  return c_bayer.v[8 * (y & 7) + (x & 7)];
#else
  return detail::bayer8(x, y);
#endif
}

// NaN to 0, then clamped to [0, 1]. On the device one saturating add: saturation maps NaN
// to +0 (PTX), the same values as the host's test and two clamps.
UPSCALED_HD float sane01(float v) {
#ifdef __CUDA_ARCH__
  return __saturatef(v);
#else
  return v == v ? detail::clamp01(v) : 0.f;
#endif
}

// floor(clamp(v, 0, max_code)) as the bits of the float 2^23 + code: one add rounding down
// onto the integer grid of [2^23, 2^24) after the clamp, and the code is the low 16 bits
// (max_code < 2^16), which the packers below take as they are. v is never NaN (the inputs
// are clamped first). Host: the same bits from detail::quantise.
UPSCALED_HD unsigned code_bits(float v, float max_code) {
#ifdef __CUDA_ARCH__
  return __float_as_uint(__fadd_rd(fminf(fmaxf(v, 0.f), max_code), 8388608.f));
#else
  return 0x4b000000u + static_cast<unsigned>(detail::quantise(v, 0.f, max_code));
#endif
}

// Low bytes of a, b (c, d) into one word, a lowest.
UPSCALED_HD unsigned pack2_u8(unsigned a, unsigned b) {
#ifdef __CUDA_ARCH__
  return __byte_perm(a, b, 0x0040);  // bytes: a.0, b.0, (a.0, a.0: above the 16 stored bits)
#else
  return (a & 0xffu) | (b & 0xffu) << 8;
#endif
}
UPSCALED_HD unsigned pack4_u8(unsigned a, unsigned b, unsigned c, unsigned d) {
#ifdef __CUDA_ARCH__
  return __byte_perm(__byte_perm(a, b, 0x0040), __byte_perm(c, d, 0x0040), 0x5410);
#else
  return (a & 0xffu) | (b & 0xffu) << 8 | (c & 0xffu) << 16 | (d & 0xffu) << 24;
#endif
}
// Low half-words of a, b into one word, a lowest, then shifted into the most significant bits
// of each half (codes < 2^(16 - shift), so no bit crosses into the upper half).
UPSCALED_HD unsigned pack2_u16(unsigned a, unsigned b, int shift) {
#ifdef __CUDA_ARCH__
  return __byte_perm(a, b, 0x5410) << shift;
#else
  return ((a & 0xffffu) | (b & 0xffffu) << 16) << shift;
#endif
}

// N codes given as code_bits() at row[x0 ..], inside [0, width) only, shifted into the most
// significant bits of their word (8-bit layouts: shift 0). vec: a.vec (rows aligned for the
// N-code vector, whose byte offset in the row is a multiple of its size by construction).
template <typename S, int N>
UPSCALED_HD void store_code_bits(S* row, int x0, int width, bool vec, int shift, const unsigned c[N]) {
  constexpr int bytes = N * static_cast<int>(sizeof(S));
  static_assert(bytes == 2 || bytes == 4 || bytes == 8 || bytes == 16 || bytes == 32);
  if (vec && x0 + N <= width) {
    if constexpr (bytes == 2) {
      *reinterpret_cast<unsigned short*>(row + x0) = static_cast<unsigned short>(pack2_u8(c[0], c[1]));
    } else {
      constexpr int nw = bytes / 4;
      unsigned w[nw];
#pragma unroll
      for (int i = 0; i < nw; ++i) {
        if constexpr (sizeof(S) == 1)
          w[i] = pack4_u8(c[4 * i], c[4 * i + 1], c[4 * i + 2], c[4 * i + 3]);
        else
          w[i] = pack2_u16(c[2 * i], c[2 * i + 1], shift);
      }
      if constexpr (nw == 1) {
        *reinterpret_cast<unsigned*>(row + x0) = w[0];
      } else if constexpr (nw == 2) {
        *reinterpret_cast<uint2*>(row + x0) = make_uint2(w[0], w[1]);
      } else {
#pragma unroll
        for (int i = 0; i < nw / 4; ++i)
          reinterpret_cast<uint4*>(row + x0)[i] = make_uint4(w[4 * i], w[4 * i + 1], w[4 * i + 2], w[4 * i + 3]);
      }
    }
    return;
  }
#pragma unroll
  for (int i = 0; i < N; ++i)
    if (x0 + i < width) row[x0 + i] = static_cast<S>((c[i] - 0x4b000000u) << shift);
}

template <typename S>
UPSCALED_HD S* code_row(std::uint8_t* base, std::ptrdiff_t pitch, int y) {
  return reinterpret_cast<S*>(base + y * pitch);
}

// Raw RGB of one plane row at columns x0 - 1 .. x0 + W - 1 (W = 4 or 8): loaded first,
// unpacked later, so that a thread issues every load before it uses any.
template <typename In, int W>
struct Raw;
template <int W>
struct Raw<const __half, W> {
  std::conditional_t<W == 8, uint4, uint2> m;  // x0 .. x0 + W - 1
  unsigned short l;                            // x0 - 1
  UPSCALED_HD void load_fast(const __half* row, int x0) {
    m = *reinterpret_cast<const decltype(m)*>(row + x0);
    l = reinterpret_cast<const unsigned short*>(row)[x0 - 1];
  }
  UPSCALED_HD void load_clamped(const __half* row, int x0, int width) {
    const auto* r = reinterpret_cast<const unsigned short*>(row);
    unsigned w[W / 2];
#pragma unroll
    for (int i = 0; i < W / 2; ++i) {
      const int a = x0 + 2 * i < width ? x0 + 2 * i : width - 1,
                b = x0 + 2 * i + 1 < width ? x0 + 2 * i + 1 : width - 1;
      w[i] = r[a] | (static_cast<unsigned>(r[b]) << 16);
    }
    if constexpr (W == 8)
      m = make_uint4(w[0], w[1], w[2], w[3]);
    else
      m = make_uint2(w[0], w[1]);
    l = r[x0 > 0 ? x0 - 1 : 0];
  }
  // The values clamped by sane01: on the device two at a time, by a saturating half2 add of
  // zero (exact; PTX's .sat flushes NaN to +0), before they are widened to float.
  UPSCALED_HD void unpack_sane(float v[W + 1]) const {
    unsigned w[W / 2];
    if constexpr (W == 8)
      w[0] = m.x, w[1] = m.y, w[2] = m.z, w[3] = m.w;
    else
      w[0] = m.x, w[1] = m.y;
    __half hl;
    memcpy(&hl, &l, 2);
#ifdef __CUDA_ARCH__
    const __half2 zero2 = __halves2half2(__ushort_as_half(0), __ushort_as_half(0));
#pragma unroll
    for (int i = 0; i < W / 2; ++i) {
      __half2 h;
      memcpy(&h, &w[i], 4);
      h = __hadd2_sat(h, zero2);
      v[1 + 2 * i] = __low2float(h);
      v[2 + 2 * i] = __high2float(h);
    }
    v[0] = __half2float(__hadd_sat(hl, __ushort_as_half(0)));
#else
    for (int i = 0; i < W / 2; ++i) {
      __half2 h;
      memcpy(&h, &w[i], 4);
      v[1 + 2 * i] = sane01(__low2float(h));
      v[2 + 2 * i] = sane01(__high2float(h));
    }
    v[0] = sane01(__half2float(hl));
#endif
  }
};
template <int W>
struct Raw<const float, W> {
  float4 m[W / 4];
  float l;
  UPSCALED_HD void load_fast(const float* row, int x0) {
#pragma unroll
    for (int i = 0; i < W / 4; ++i) m[i] = reinterpret_cast<const float4*>(row + x0)[i];
    l = row[x0 - 1];
  }
  UPSCALED_HD void load_clamped(const float* row, int x0, int width) {
    float e[W];
#pragma unroll
    for (int i = 0; i < W; ++i) e[i] = row[x0 + i < width ? x0 + i : width - 1];
#pragma unroll
    for (int i = 0; i < W / 4; ++i) m[i] = make_float4(e[4 * i], e[4 * i + 1], e[4 * i + 2], e[4 * i + 3]);
    l = row[x0 > 0 ? x0 - 1 : 0];
  }
  UPSCALED_HD void unpack_sane(float v[W + 1]) const {
    v[0] = sane01(l);
#pragma unroll
    for (int i = 0; i < W / 4; ++i) {
      v[1 + 4 * i] = sane01(m[i].x), v[2 + 4 * i] = sane01(m[i].y);
      v[3 + 4 * i] = sane01(m[i].z), v[4 + 4 * i] = sane01(m[i].w);
    }
  }
};

// Rows ys[0 .. NR) of all three planes at columns x0 - 1 .. x0 + W - 1 (clamped into the
// row). Fast path when the rows allow vectors (vec), the strip has a left neighbour and ends
// inside the row: straight-line wide loads.
template <int NR, int W, typename In>
UPSCALED_HD void load_rows(const Planes3<In>& src, const int ys[NR], int x0, int width, bool vec,
                           Raw<In, W> raw[NR][3]) {
  if (vec && x0 >= 1 && x0 + W <= width) {
#pragma unroll
    for (int k = 0; k < NR; ++k)
#pragma unroll
      for (int c = 0; c < 3; ++c) raw[k][c].load_fast(src.row(c, ys[k]), x0);
  } else {
#pragma unroll
    for (int k = 0; k < NR; ++k)
#pragma unroll
      for (int c = 0; c < 3; ++c) raw[k][c].load_clamped(src.row(c, ys[k]), x0, width);
  }
}

template <int W, typename In>
UPSCALED_HD void unpack_row(const Raw<In, W> raw[3], float v[3][W + 1]) {
#pragma unroll
  for (int c = 0; c < 3; ++c) raw[c].unpack_sane(v[c]);
}

// One row (packed layouts): sanitised values, v[c][0] = column x0 - 1, v[c][1 + i] = x0 + i.
template <typename In>
UPSCALED_HD void load_rgb9(const Planes3<In>& src, int y, int x0, int width, bool vec, float v[3][9]) {
  const int ys[1] = {y};
  Raw<In, 8> raw[1][3];
  load_rows<1, 8>(src, ys, x0, width, vec, raw);
  unpack_row<8>(raw[0], v);
}

// Offset + rounding threshold of a code: a.bias[c] (off + 0.5) or, dithered, off + the Bayer
// threshold at (x, y). DT: ordered dither (a.dither), a template parameter so that the
// undithered kernels carry no threshold lookups.
template <bool DT>
UPSCALED_HD float code_bias(const FromRgbArgs& a, int c, int x, int y) {
  return DT ? a.bias[c] + bayer_threshold(x, y) : a.bias[c];
}

// Luma codes (code_bits) of the W pixels of row y, not stored yet.
template <int W, bool DT>
UPSCALED_HD void luma_codes(const FromRgbArgs& a, int y, int x0, const float v[3][W + 1], unsigned q[W]) {
  const detail::RgbToYuv& m = a.m;
#pragma unroll
  for (int i = 0; i < W; ++i) {
    const float code =
        code_bias<DT>(a, 0, x0 + i, y) + m.m[0] * v[0][1 + i] + m.m[1] * v[1][1 + i] + m.m[2] * v[2][1 + i];
    q[i] = code_bits(code, m.max_code);
  }
}

// Chroma of cells [c0, c0 + n) of chroma row cy from the vertically filtered RGB columns
// acc[c][0 .. W] (column x0 - 1 + j, as load_rows) or, without horizontal subsampling,
// acc[c][1 + i]. Same order as chroma_row() in from_rgb_cpu.cpp: vertical sums first, then
// horizontal, then the chroma rows of the matrix.
// TH: horizontal taps (a.th.n: 3 co-sited, 2 centred; 0 without horizontal subsampling).
template <typename S, int SX, int W, bool DT, int TH>
UPSCALED_HD void chroma_cells(const FromRgbArgs& a, int cy, int x0, const float acc[3][W + 1]) {
  constexpr int n = W >> SX;
  const int c0 = x0 >> SX;
  float R[n], G[n], B[n];
  if constexpr (SX == 0) {
#pragma unroll
    for (int i = 0; i < n; ++i) R[i] = acc[0][1 + i], G[i] = acc[1][1 + i], B[i] = acc[2][1 + i];
  } else {
    // Cell i covers luma columns x0 + 2i (+ first + k); its taps in acc are at 2i + 1 +
    // first + k: first = -1 (co-sited, [1 2 1]) or 0 (centred, [1 1]).
    constexpr bool three = TH == 3;
#pragma unroll
    for (int i = 0; i < n; ++i) {
      const int j = 2 * i + (three ? 0 : 1);
      float r = a.th.w[0] * acc[0][j] + a.th.w[1] * acc[0][j + 1];
      float g = a.th.w[0] * acc[1][j] + a.th.w[1] * acc[1][j + 1];
      float b = a.th.w[0] * acc[2][j] + a.th.w[1] * acc[2][j + 1];
      if constexpr (three) {
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
    const float u = code_bias<DT>(a, 1, cx, cy) + m.m[3] * R[i] + m.m[4] * G[i] + m.m[5] * B[i];
    const float v = code_bias<DT>(a, 2, cx + 4, cy + 2) + m.m[6] * R[i] + m.m[7] * G[i] + m.m[8] * B[i];
    qu[i] = code_bits(u, m.max_code);
    qv[i] = code_bits(v, m.max_code);
  }
  if (a.interleaved) {
    unsigned uv[2 * n];
#pragma unroll
    for (int i = 0; i < n; ++i) uv[2 * i] = qu[i], uv[2 * i + 1] = qv[i];
    store_code_bits<S, 2 * n>(code_row<S>(a.p[1], a.pitch[1], cy), 2 * c0, 2 * a.cw, a.vec, a.shift, uv);
  } else {
    store_code_bits<S, n>(code_row<S>(a.p[1], a.pitch[1], cy), c0, a.cw, a.vec, a.shift, qu);
    store_code_bits<S, n>(code_row<S>(a.p[2], a.pitch[2], cy), c0, a.cw, a.vec, a.shift, qv);
  }
}

// YUV and gray layouts: strip (sx, cy) = luma columns [W sx, W sx + W) of the luma rows of
// chroma row cy. NT: vertical chroma taps, 1 (no vertical subsampling), 2 (centred, [1 1]
// over rows 2cy, 2cy + 1) or 3 (co-sited, [1 2 1] over rows 2cy - 1 .. 2cy + 1); rows are
// clamped into the picture as the CPU clamps them. Every load comes before the first store
// (stores may alias the source for all the compiler knows, so a store between two loads
// would serialise the thread's memory round trips); sums run in the CPU's tap order.
template <typename S, int SX, int NT, int W, bool DT, int TH, typename In>
UPSCALED_HD void from_rgb_strip(const FromRgbArgs& a, const Planes3<In>& src, int sx, int cy) {
  constexpr int SY = NT == 1 ? 0 : 1, OFF = NT == 3 ? 1 : 0;
  const int x0 = W * sx, y0 = cy << SY;
  unsigned q[1 << SY][W];
  float acc[3][W + 1];
  int ys[NT];
#pragma unroll
  for (int k = 0; k < NT; ++k) ys[k] = clampi(y0 - OFF + k, 0, a.height - 1);
  Raw<In, W> raw[NT][3];
  load_rows<NT, W>(src, ys, x0, a.width, a.vec, raw);
#pragma unroll
  for (int k = 0; k < NT; ++k) {
    float v[3][W + 1];
    unpack_row<W>(raw[k], v);
    if (k >= OFF && k - OFF < (1 << SY)) luma_codes<W, DT>(a, y0 + k - OFF, x0, v, q[k - OFF]);
    // Without vertical subsampling the single tap weighs 1 (the CPU's 0 + 1 * v): the values
    // themselves, no FMAs.
    const float wk = a.tv.w[k];
#pragma unroll
    for (int c = 0; c < 3; ++c)
#pragma unroll
      for (int j = 0; j < W + 1; ++j) acc[c][j] = NT == 1 ? v[c][j] : (k == 0 ? 0.f : acc[c][j]) + wk * v[c][j];
  }
#pragma unroll
  for (int d = 0; d < (1 << SY); ++d)
    if (y0 + d < a.height)
      store_code_bits<S, W>(code_row<S>(a.p[0], a.pitch[0], y0 + d), x0, a.width, a.vec, a.shift, q[d]);
  if (a.yuv) chroma_cells<S, SX, W, DT, TH>(a, cy, x0, acc);
}

// rgb24 / bgr24: 8 pixels = 24 bytes.
template <typename In>
UPSCALED_HD void from_rgb_packed_strip(const FromRgbArgs& a, const Planes3<In>& src, int sx, int y) {
  const int x0 = 8 * sx;
  float v[3][9];
  load_rgb9(src, y, x0, a.width, a.vec, v);
  std::uint8_t px[24];
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const float t = a.dither ? bayer_threshold(x0 + i, y) : 0.5f;
    const auto r = static_cast<std::uint8_t>(quantise_fast(v[0][1 + i] * 255.f, t, 255.f));
    const auto g = static_cast<std::uint8_t>(quantise_fast(v[1][1 + i] * 255.f, t, 255.f));
    const auto b = static_cast<std::uint8_t>(quantise_fast(v[2][1 + i] * 255.f, t, 255.f));
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

// Strip width: 4 pixels for 4:2:0 (a thread then loads 2 or 3 rows x 3 planes x 5 values,
// about what a 4:4:4 thread loads), 8 otherwise. The bound keeps co-sited 4:2:0 (3 rows) at
// 2 blocks per multiprocessor and the others at 3 or more.
template <int NT>
constexpr int strip_width = NT >= 2 ? 4 : 8;

template <typename S, int SX, int NT, int W, bool DT, int TH, typename In>
__global__ void __launch_bounds__(kBlockX* kBlockY, NT == 3 ? 2 : 3) from_rgb_kernel(FromRgbArgs a, Planes3<In> src) {
  const int sx = blockIdx.x * kBlockX + threadIdx.x, cy = blockIdx.y * kBlockY + threadIdx.y;
  if (W * sx >= a.width || (cy << (NT == 1 ? 0 : 1)) >= a.height) return;
  from_rgb_strip<S, SX, NT, W, DT, TH, In>(a, src, sx, cy);
}

// Dither and horizontal chroma taps as template parameters: one instantiation per
// combination, chosen here from the run-time arguments.
template <int SX, int NT, int W, typename In>
void launch_planar(const FromRgbArgs& a, const Planes3<In>& s, int bytes, dim3 grid, dim3 block, cudaStream_t st) {
  auto go = [&](auto dt, auto th) {
    constexpr bool DT = decltype(dt)::value;
    constexpr int TH = decltype(th)::value;
    if (bytes == 1)
      from_rgb_kernel<std::uint8_t, SX, NT, W, DT, TH, In><<<grid, block, 0, st>>>(a, s);
    else
      from_rgb_kernel<std::uint16_t, SX, NT, W, DT, TH, In><<<grid, block, 0, st>>>(a, s);
  };
  using D0 = std::false_type;
  using D1 = std::true_type;
  if constexpr (SX == 0) {
    a.dither ? go(D1{}, std::integral_constant<int, 0>{}) : go(D0{}, std::integral_constant<int, 0>{});
  } else {
    using T2 = std::integral_constant<int, 2>;
    using T3 = std::integral_constant<int, 3>;
    if (a.th.n == 3)
      a.dither ? go(D1{}, T3{}) : go(D0{}, T3{});
    else
      a.dither ? go(D1{}, T2{}) : go(D0{}, T2{});
  }
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
  const Planes3<In> s = planes3<In>(src);
  const FromRgbArgs a = make_from_rgb_args(s, dst, spec, dither);
  const dim3 block(kBlockX, kBlockY);
  const cudaStream_t st = to_cuda(stream);
  auto grid = [&](int width, int shift_y) {
    return dim3(div_up(div_up(dst.width, width), kBlockX), div_up(div_up(dst.height, 1 << shift_y), kBlockY));
  };
  if (li.packed_rgb) {
    from_rgb_packed_kernel<In><<<grid(8, 0), block, 0, st>>>(a, s);
  } else if (li.chroma_shift_y == 1) {  // 4:2:0
    const dim3 g = grid(strip_width<2>, 1);
    if (a.tv.n == 3)
      launch_planar<1, 3, strip_width<3>, In>(a, s, li.bytes, g, block, st);
    else
      launch_planar<1, 2, strip_width<2>, In>(a, s, li.bytes, g, block, st);
  } else if (li.chroma_shift_x == 1) {
    // 4:2:2: 8-pixel strips. With the arithmetic above they beat 4-pixel ones by 10% at
    // 3840x2160 on the H200 (2217-2306 -> 2490-2517 GB/s, same call); before it they were
    // 1.5x slower.
    launch_planar<1, 1, 8, In>(a, s, li.bytes, grid(8, 0), block, st);
  } else {  // 4:4:4 and gray (a.yuv false: luma only)
    launch_planar<0, 1, strip_width<1>, In>(a, s, li.bytes, grid(8, 0), block, st);
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

namespace detail {
const void* from_rgb_module() {  // cuda_modules.h
  return reinterpret_cast<const void*>(&from_rgb_packed_kernel<const __half>);
}
}  // namespace detail

}  // namespace upscaled::kernels
