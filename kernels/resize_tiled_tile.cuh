// The tiled resize kernel's per-tile phases (the tile kernel of resize_cuda.cu, described
// there): phase 1, a tile's packed taps and source window into a shared-memory buffer (float16
// planes kept float16, float32 planes, or a decoded frame converted as to_rgb does); phase 2,
// the horizontal pass into a float32 tile; phase 3, the vertical pass into the destination.
// Internal to kernels/, included by resize_cuda.cu only.
//
// Contract: every function runs in one thread of the kernel's block (tid: its index among
// kTiledThreads), on shared-memory buffers the caller lays out (htaps_of, vtaps_of,
// window_of) and synchronises between phases; nothing here launches or waits on a stream. The
// bodies are __host__ __device__, so they can be run on the host against the CPU twin.
#pragma once

#include "kernels/cuda_common.cuh"
#include "kernels/frame_sampler.cuh"

#include <cstring>

namespace upscaled::kernels::cudadetail {

constexpr int kTileW = 128;         // output columns per tile
constexpr int kMidW = kTileW + 4;   // float row stride of the horizontal result (16-byte rows, 4 mod 8 words)
constexpr int kTiledThreads = 256;  // 8 warps; vertical pass: 32 column groups x 8 row segments
constexpr int kVertSegments = kTiledThreads / (kTileW / 4);

// Packed taps: KT taps in KP = 4 * ceil((KT + 1) / 4) floats, first index in slot KP - 1.
__host__ __device__ constexpr int packed_floats(int kt) {
  return (kt + 1 + 3) / 4 * 4;
}

// Blocks per multiprocessor the register budget must allow (the compiler needs about 48, 64,
// 80, 100 and 130 registers for 3, 5, 7, 9 and 13 taps unconstrained).
__host__ __device__ constexpr int min_blocks(int kt) {
  return kt <= 5 ? 4 : (kt <= 7 ? 3 : 2);
}

UPSCALED_HD int float_bits(float f) {
  int i;
  memcpy(&i, &f, 4);
  return i;
}

// Taps of entry i of a packed table in shared memory (16-byte rows).
template <int KP>
UPSCALED_HD void load_taps(const float* tab, int i, float w[KP]) {
  const float4* p = reinterpret_cast<const float4*>(tab + i * KP);
#pragma unroll
  for (int q = 0; q < KP / 4; ++q) {
    const float4 v = p[q];
    w[4 * q] = v.x, w[4 * q + 1] = v.y, w[4 * q + 2] = v.z, w[4 * q + 3] = v.w;
  }
}

template <int KP>
UPSCALED_HD int tap_first(const float* tab, int i) {
  return float_bits(tab[i * KP + KP - 1]);
}

struct TiledArgs {
  const float* htab;  // packed horizontal taps, padded to a multiple of kTileW entries
  const float* vtab;  // packed vertical taps, padded to a multiple of th entries
  const int2* xinfo;  // per column of tiles: source window origin (even) and width
  const int2* yinfo;  // per row of tiles: source window origin and height
  int sw, sh, dw, dh;
  int th;                      // tile height, multiple of kVertSegments
  int rsx;                     // horizontal-pass run length (multiple of 4, divides kTileW)
  int rows_alloc, cols_alloc;  // shared-memory window: rows per plane, row stride (elements)
  int ntx, nty, ntiles;        // tiles: x fastest, then y, then plane
  int buf_floats;              // one prefetch buffer: taps and window, in floats (multiple of 4)
};

// One tile: origin and source window.
struct TileCtx {
  int x0, y0, z;  // output tile origin, plane (planar runs)
  int wx0, wy0;   // source window origin (wx0 even)
  int ncols, nrows;
};

UPSCALED_HD TileCtx tile_at(const TiledArgs& a, int i) {
  TileCtx t;
  const int bx = i % a.ntx, q = i / a.ntx;
  const int by = q % a.nty;
  t.z = q / a.nty;
  t.x0 = bx * kTileW;
  t.y0 = by * a.th;
#ifdef __CUDA_ARCH__
  const int2 xi = __ldg(a.xinfo + bx), yi = __ldg(a.yinfo + by);
#else
  const int2 xi = a.xinfo[bx], yi = a.yinfo[by];
#endif
  t.wx0 = xi.x, t.ncols = xi.y, t.wy0 = yi.x, t.nrows = yi.y;
  return t;
}

// A prefetch buffer: the tile's horizontal taps (kTileW entries), vertical taps (th
// entries), then its source window (np planes).
template <int KP>
UPSCALED_HD float* htaps_of(float* buf) {
  return buf;
}
template <int KP>
UPSCALED_HD float* vtaps_of(float* buf) {
  return buf + kTileW * KP;
}
template <int KP, typename InT>
UPSCALED_HD InT* window_of(const TiledArgs& a, float* buf) {
  return reinterpret_cast<InT*>(buf + (kTileW + a.th) * KP);
}

// ---- Asynchronous global -> shared copies (cp.async, sm_80+): a thread issues all of its
// tile's copies without waiting; async_wait<N>() leaves the N most recent groups pending.
// Plain copies on older targets and on the host. (The tile_ prefix: resize_periodic_fill.cuh's
// device-only copy16_async is another function in the same namespace.)

UPSCALED_HD void tile_copy4_async(void* smem, const void* global) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const auto s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(s), "l"(global) : "memory");
#else
  memcpy(smem, global, 4);
#endif
}
UPSCALED_HD void tile_copy16_async(void* smem, const void* global) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const auto s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(global) : "memory");
#else
  memcpy(smem, global, 16);
#endif
}
UPSCALED_HD void async_commit() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#endif
}
template <int N>
UPSCALED_HD void async_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
#endif
}

// ---- Phase 1: the tile's taps and source window -> a shared-memory buffer.

template <int KP>
UPSCALED_HD void fetch_taps(const TiledArgs& a, const TileCtx& t, float* buf, int tid) {
  const float* h = a.htab + static_cast<std::size_t>(t.x0) * KP;
  const float* v = a.vtab + static_cast<std::size_t>(t.y0) * KP;
  const int nh = kTileW * KP / 4, nv = a.th * KP / 4;
  for (int i = tid; i < nh + nv; i += kTiledThreads)
    tile_copy16_async(buf + 4 * i, i < nh ? h + 4 * i : v + 4 * (i - nh));
}

// Planar float16: pairs of samples, one 4-byte copy where the address allows.
UPSCALED_HD void fill_window(const TiledArgs& a, const TileCtx& t, const Planes3<const __half>& src, __half* in,
                             int tid) {
  const int units = (t.ncols + 1) >> 1;
  for (int r = tid >> 5; r < t.nrows; r += kTiledThreads / 32) {
    const __half* row = src.row_dyn(t.z, clampi(t.wy0 + r, 0, a.sh - 1));
    unsigned* out = reinterpret_cast<unsigned*>(in + r * a.cols_alloc);
    for (int u = tid & 31; u < units; u += 32) {
      const int gx = t.wx0 + 2 * u;
      if (gx >= 0 && gx + 1 < a.sw && aligned_to(row + gx, 4)) {
        tile_copy4_async(out + u, row + gx);
      } else {
        const __half2 h = __halves2half2(row[clampi(gx, 0, a.sw - 1)], row[clampi(gx + 1, 0, a.sw - 1)]);
        memcpy(out + u, &h, 4);
      }
    }
  }
}

// Planar float32 (rows of 4-byte aligned floats).
UPSCALED_HD void fill_window(const TiledArgs& a, const TileCtx& t, const Planes3<const float>& src, float* in,
                             int tid) {
  for (int r = tid >> 5; r < t.nrows; r += kTiledThreads / 32) {
    const float* row = src.row_dyn(t.z, clampi(t.wy0 + r, 0, a.sh - 1));
    float* out = in + r * a.cols_alloc;
    for (int c = tid & 31; c < t.ncols; c += 32) tile_copy4_async(out + c, row + clampi(t.wx0 + c, 0, a.sw - 1));
  }
}

// Decoded frame: each source pixel converted as to_rgb does, into three float planes.
template <typename S>
UPSCALED_HD void fill_window_frame(const TiledArgs& a, const TileCtx& t, const FrameSampler& f, float* in, int tid) {
  const int plane = a.rows_alloc * a.cols_alloc;
  for (int r = tid >> 5; r < t.nrows; r += kTiledThreads / 32) {
    const int y = clampi(t.wy0 + r, 0, a.sh - 1);
    float* out = in + r * a.cols_alloc;
    for (int c = tid & 31; c < t.ncols; c += 32) {
      const float3 v = sample_rgb<S>(f, clampi(t.wx0 + c, 0, a.sw - 1), y);
      out[c] = v.x;
      out[plane + c] = v.y;
      out[2 * plane + c] = v.z;
    }
  }
}

// ---- Phase 2: horizontal pass, window rows -> mid (float32, kMidW stride).

template <int KT>
UPSCALED_HD void slide(float w[KT], float next) {
#pragma unroll
  for (int k = 0; k + 1 < KT; ++k) w[k] = w[k + 1];
  w[KT - 1] = next;
}

template <int KT, int NP, typename InT>
UPSCALED_HD void h_pass_tile(const TiledArgs& a, const TileCtx& t, const float* htaps, const InT* in, float* mid,
                             int tid) {
  constexpr int KP = packed_floats(KT);
  const int nrh = (t.nrows + 1) >> 1;  // a thread takes rows r and r + nrh
  const int runs = kTileW / a.rsx;
  const int items = NP * nrh * runs;
  for (int it = tid; it < items; it += kTiledThreads) {
    const int rp = it % nrh, rest = it / nrh;
    const int p = rest % NP, j = rest / NP;
    const bool two = rp + nrh < t.nrows;
    const int r0 = rp, r1 = two ? rp + nrh : rp;
    const InT* i0 = in + (p * a.rows_alloc + r0) * a.cols_alloc;
    const InT* i1 = in + (p * a.rows_alloc + r1) * a.cols_alloc;
    float* m0 = mid + (p * a.rows_alloc + r0) * kMidW;
    float* m1 = mid + (p * a.rows_alloc + r1) * kMidW;
    const int xs = j * a.rsx;
    int cur = tap_first<KP>(htaps, xs) - t.wx0;
    float w0[KT], w1[KT];
#pragma unroll
    for (int k = 0; k < KT; ++k) w0[k] = to_f(i0[cur + k]), w1[k] = to_f(i1[cur + k]);
    for (int xx = xs; xx < xs + a.rsx; xx += 4) {
      float b0[4], b1[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        float wt[KP];
        load_taps<KP>(htaps, xx + q, wt);
        const int o = float_bits(wt[KP - 1]) - t.wx0;
        for (; cur < o; ++cur) {
          slide<KT>(w0, to_f(i0[cur + KT]));
          slide<KT>(w1, to_f(i1[cur + KT]));
        }
        float s0 = 0.f, s1 = 0.f;
#pragma unroll
        for (int k = 0; k < KT; ++k) s0 += wt[k] * w0[k], s1 += wt[k] * w1[k];
        b0[q] = s0, b1[q] = s1;
      }
      *reinterpret_cast<float4*>(m0 + xx) = make_float4(b0[0], b0[1], b0[2], b0[3]);
      if (two) *reinterpret_cast<float4*>(m1 + xx) = make_float4(b1[0], b1[1], b1[2], b1[3]);
    }
  }
}

// ---- Phase 3: vertical pass, mid -> destination rows.

UPSCALED_HD void store4(float* row, int x, int width, float4 v) {
  if (x + 4 <= width && aligned_to(row + x, 16)) {
    *reinterpret_cast<float4*>(row + x) = v;
    return;
  }
  const float e[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int i = 0; i < 4; ++i)
    if (x + i < width) row[x + i] = e[i];
}
UPSCALED_HD void store4(__half* row, int x, int width, float4 v) {
  if (x + 4 <= width && aligned_to(row + x, 8)) {
    *reinterpret_cast<uint2*>(row + x) = make_uint2(pack_half2(v.x, v.y), pack_half2(v.z, v.w));
    return;
  }
  const float e[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
  for (int i = 0; i < 4; ++i)
    if (x + i < width) row[x + i] = __float2half_rn(e[i]);
}

template <int KT, int NP, typename T>
UPSCALED_HD void v_pass_tile(const TiledArgs& a, const TileCtx& t, const float* vtaps, const float* mid,
                             const Planes3<T>& dst, int tid) {
  constexpr int KP = packed_floats(KT);
  const int g = tid & 31, seg = tid >> 5;
  const int rs = a.th / kVertSegments;
  const int ys = seg * rs;
  const int x = t.x0 + 4 * g;
  if (x >= a.dw || t.y0 + ys >= a.dh) return;
  const int first = tap_first<KP>(vtaps, ys) - t.wy0;
#pragma unroll 1
  for (int p = 0; p < NP; ++p) {
    const float* col = mid + p * a.rows_alloc * kMidW + 4 * g;
    int cur = first;
    float4 win[KT];
#pragma unroll
    for (int k = 0; k < KT; ++k) win[k] = *reinterpret_cast<const float4*>(col + (cur + k) * kMidW);
    for (int yy = ys; yy < ys + rs; ++yy) {
      const int y = t.y0 + yy;
      if (y >= a.dh) break;
      float wt[KP];
      load_taps<KP>(vtaps, yy, wt);
      const int o = float_bits(wt[KP - 1]) - t.wy0;
      for (; cur < o; ++cur) {
#pragma unroll
        for (int k = 0; k + 1 < KT; ++k) win[k] = win[k + 1];
        win[KT - 1] = *reinterpret_cast<const float4*>(col + (cur + KT) * kMidW);
      }
      float4 s = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
      for (int k = 0; k < KT; ++k) {
        s.x += wt[k] * win[k].x;
        s.y += wt[k] * win[k].y;
        s.z += wt[k] * win[k].z;
        s.w += wt[k] * win[k].w;
      }
      store4(dst.row_dyn(NP == 1 ? t.z : p, y), x, a.dw, s);
    }
  }
}
}  // namespace upscaled::kernels::cudadetail
