// CUDA twin of resize_cpu: the same tap tables (make_taps) and the same two passes
// (horizontal, then vertical) with the same sums. Two strategies:
//
//  - tiled (default): one kernel per run over 128-wide output tiles of `th` rows (8..64,
//    chosen per plan). Blocks of 256 threads are persistent: a block walks the tiles
//    blockIdx.x, + gridDim.x, ... and, while it filters one tile, copies the next tile's
//    taps and source window into its other shared-memory buffer (cp.async), so memory
//    latency hides behind arithmetic. Per tile:
//      1. (prefetched) the tile's packed taps and source window: float16 planes stay float16
//         in shared memory (exact, half the bytes); the fused frame run converts each source
//         pixel of the decoded frame into three float planes instead, so no full-size RGB
//         frame is ever written;
//      2. horizontal pass: a thread takes two window rows and a run of 8 output columns,
//         keeps the taps of each row in registers and slides them along the row (one new
//         shared-memory read per source column crossed, not one per tap); a column's weights
//         are the same for every row, so a warp reads them once (broadcast); results go to a
//         float32 tile in shared memory, 16 bytes at a time;
//      3. vertical pass: a thread takes 4 adjacent columns and th / 8 consecutive output
//         rows and slides its taps down the columns the same way, writing 4 outputs per
//         store (8 or 16 bytes).
//    DRAM traffic is one read of the source and one write of the destination. Tap tables
//    are "packed" for this kernel: per output sample KP floats = the weights padded with
//    zeros to KT taps, and the first source index (bit-cast) in the last slot, so one
//    16-byte broadcast load brings a column's first index with its weights. Padding taps
//    (weight 0) add 0 * (a finite value) to the sums: the results equal the CPU's.
//  - two passes through a float32 intermediate in device memory, for filter windows wider
//    than KT = 13 taps (strong downscales) or shared-memory tiles that do not fit, and when
//    ResizeStrategy::two_pass is asked for.
//
// The per-thread bodies of the tiled kernel are __host__ __device__, so they can be run on
// the host against the CPU twin when no GPU is at hand.
#include "kernels/cuda_modules.h"
#include "kernels/frame_sampler.cuh"
#include "kernels/resize.h"
#include "kernels/resize_periodic_cuda.cuh"
#include "kernels/resize_taps.h"
#include "kernels/to_rgb.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace upscaled::kernels {
namespace cudadetail {

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
// Plain copies on older targets and on the host.

UPSCALED_HD void copy4_async(void* smem, const void* global) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const auto s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(s), "l"(global) : "memory");
#else
  memcpy(smem, global, 4);
#endif
}
UPSCALED_HD void copy16_async(void* smem, const void* global) {
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
  for (int i = tid; i < nh + nv; i += kTiledThreads) copy16_async(buf + 4 * i, i < nh ? h + 4 * i : v + 4 * (i - nh));
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
        copy4_async(out + u, row + gx);
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
    for (int c = tid & 31; c < t.ncols; c += 32) copy4_async(out + c, row + clampi(t.wx0 + c, 0, a.sw - 1));
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

}  // namespace cudadetail

namespace {

using namespace cudadetail;

struct TapTable {
  const int* first;
  const float* w;
  int count;
};

template <typename T>
__global__ void h_pass(Planes3<const T> src, int sw, int sh, int dw, TapTable t, float* tmp) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  const int z = blockIdx.z;
  if (x >= dw || y >= sh) return;
  const T* in = src.row_dyn(z, y);
  const int first = t.first[x];
  const float* w = t.w + static_cast<std::size_t>(x) * t.count;
  float acc = 0.f;
  for (int k = 0; k < t.count; ++k) {
    const int i = min(max(first + k, 0), sw - 1);  // no-op when make_taps slid the window inside
    acc += w[k] * to_f(in[i]);
  }
  tmp[(static_cast<std::size_t>(z) * sh + y) * dw + x] = acc;
}

// Fused variant of h_pass: converts each tap's source pixel from the decoded frame (the
// conversion of to_rgb_cuda) instead of reading a full-size RGB frame; writes all 3 planes.
template <typename S>
__global__ void h_pass_frame(FrameSampler f, int dw, TapTable t, float* tmp) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= dw || y >= f.height) return;
  const int first = t.first[x];
  const float* w = t.w + static_cast<std::size_t>(x) * t.count;
  float r = 0.f, g = 0.f, b = 0.f;
  for (int k = 0; k < t.count; ++k) {
    const int i = min(max(first + k, 0), f.width - 1);
    const float3 c = sample_rgb<S>(f, i, y);
    r += w[k] * c.x;
    g += w[k] * c.y;
    b += w[k] * c.z;
  }
  const std::size_t plane = static_cast<std::size_t>(f.height) * dw, at = static_cast<std::size_t>(y) * dw + x;
  tmp[at] = r;
  tmp[plane + at] = g;
  tmp[2 * plane + at] = b;
}

template <typename T>
__global__ void v_pass(const float* tmp, int sh, int dw, int dh, TapTable t, Planes3<T> dst) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  const int z = blockIdx.z;
  if (x >= dw || y >= dh) return;
  const float* plane = tmp + static_cast<std::size_t>(z) * sh * dw;
  const int first = t.first[y];
  const float* w = t.w + static_cast<std::size_t>(y) * t.count;
  float acc = 0.f;
  for (int k = 0; k < t.count; ++k) {
    const float wk = w[k];
    if (wk == 0.f) continue;  // same skip as the CPU pass, for identical sums
    const int j = min(max(first + k, 0), sh - 1);
    acc += wk * plane[static_cast<std::size_t>(j) * dw + x];
  }
  dst.row_dyn(z, y)[x] = from_f<T>(acc);
}

// The tile loop shared by the planar and fused kernels. PERSIST: a block walks tiles
// blockIdx.x, + gridDim.x, ... and copies the next tile's taps and window into the other
// buffer while it filters the current one; otherwise one tile per block.
template <int KT, int NP, bool PERSIST, typename InT, typename T, typename Fetch>
__device__ __forceinline__ void tile_loop(const TiledArgs& a, float* mid, float* bufs, const Planes3<T>& dst,
                                          Fetch fetch) {
  constexpr int KP = packed_floats(KT);
  const int tid = threadIdx.x;
  int i = blockIdx.x;
  TileCtx t = tile_at(a, i);
  fetch(t, bufs);
  async_commit();
  int n = PERSIST ? i + static_cast<int>(gridDim.x) : a.ntiles;
  TileCtx tn = t;
  if (n < a.ntiles) tn = tile_at(a, n);
  for (int k = 0;; ++k) {
    float* cur = bufs + (PERSIST ? (k & 1) * a.buf_floats : 0);
    if (PERSIST && n < a.ntiles) {
      fetch(tn, bufs + ((k + 1) & 1) * a.buf_floats);
      async_commit();
      async_wait<1>();
    } else {
      async_wait<0>();
    }
    const int nn = PERSIST && n < a.ntiles ? n + static_cast<int>(gridDim.x) : a.ntiles;
    TileCtx tnn = tn;
    if (nn < a.ntiles) tnn = tile_at(a, nn);  // its latency hides behind this tile's passes
    __syncthreads();
    h_pass_tile<KT, NP>(a, t, htaps_of<KP>(cur), window_of<KP, InT>(a, cur), mid, tid);
    __syncthreads();
    v_pass_tile<KT, NP>(a, t, vtaps_of<KP>(cur), mid, dst, tid);
    if (n >= a.ntiles) break;
    __syncthreads();  // mid and this buffer are rewritten next
    t = tn;
    tn = tnn;
    n = nn;
  }
}

// The tiled kernel, planar: NP = 1, the plane is part of the tile index.
template <int KT, typename InT, typename T, bool PERSIST>
__global__ void __launch_bounds__(kTiledThreads, min_blocks(KT))
    resize_tiled(TiledArgs a, Planes3<const InT> src, Planes3<T> dst) {
  extern __shared__ float4 smem4[];
  constexpr int KP = packed_floats(KT);
  float* mid = reinterpret_cast<float*>(smem4);
  tile_loop<KT, 1, PERSIST, InT>(a, mid, mid + a.rows_alloc * kMidW, dst, [&](const TileCtx& t, float* buf) {
    fetch_taps<KP>(a, t, buf, threadIdx.x);
    fill_window(a, t, src, window_of<KP, InT>(a, buf), threadIdx.x);
  });
}

// The tiled kernel, fused frame -> RGB: NP = 3 planes per tile.
template <int KT, typename S, typename T, bool PERSIST>
__global__ void __launch_bounds__(kTiledThreads, min_blocks(KT))
    resize_tiled_frame(TiledArgs a, FrameSampler f, Planes3<T> dst) {
  extern __shared__ float4 smem4[];
  constexpr int KP = packed_floats(KT);
  float* mid = reinterpret_cast<float*>(smem4);
  tile_loop<KT, 3, PERSIST, float>(a, mid, mid + 3 * a.rows_alloc * kMidW, dst, [&](const TileCtx& t, float* buf) {
    fetch_taps<KP>(a, t, buf, threadIdx.x);
    fill_window_frame<S>(a, t, f, window_of<KP, float>(a, buf), threadIdx.x);
  });
}

// Tap-count buckets of the tiled kernel (odd counts come from make_taps; 11 runs as 13).
constexpr int kBuckets[] = {3, 5, 7, 9, 13};

int bucket_for(int count) {
  for (int b : kBuckets)
    if (count <= b) return b;
  return 0;
}

// Packed taps for the tiled kernel (see the file comment), `padded` entries: those past the
// real ones repeat the last first index with zero weights.
std::vector<float> pack_taps(const detail::Taps& t, int kt, int padded) {
  const int kp = packed_floats(kt);
  const int n = static_cast<int>(t.first.size());
  std::vector<float> out(static_cast<std::size_t>(padded) * kp, 0.f);
  for (int d = 0; d < padded; ++d) {
    const int s = std::min(d, n - 1);
    float* e = out.data() + static_cast<std::size_t>(d) * kp;
    if (d < n)
      for (int k = 0; k < t.count; ++k) e[k] = t.weights[static_cast<std::size_t>(s) * t.count + k];
    const int first = t.first[s];
    std::memcpy(e + kp - 1, &first, 4);
  }
  return out;
}

int round_up(int v, int m) {
  return (v + m - 1) / m * m;
}

// Source windows of every column and row of tiles for tile height th: origin (even for
// columns, so that float16 pairs load as one word) and extent (KT taps past the last first
// index; taps beyond a filter's count have weight 0 but are read, so they must be finite).
struct Windows {
  std::vector<int> x, y;  // (origin, extent) pairs
  int max_cols = 0, max_rows = 0;
};
Windows windows(const detail::Taps& h, const detail::Taps& v, int kt, int dw, int dh, int th) {
  Windows w;
  for (int x0 = 0; x0 < dw; x0 += kTileW) {
    const int f0 = h.first[x0], wx0 = f0 - (f0 & 1);
    const int cols = h.first[std::min(x0 + kTileW, dw) - 1] + kt - wx0;
    w.x.insert(w.x.end(), {wx0, cols});
    w.max_cols = std::max(w.max_cols, cols);
  }
  for (int y0 = 0; y0 < dh; y0 += th) {
    const int rows = v.first[std::min(y0 + th, dh) - 1] + kt - v.first[y0];
    w.y.insert(w.y.end(), {v.first[y0], rows});
    w.max_rows = std::max(w.max_rows, rows);
  }
  return w;
}

struct TileChoice {
  int th = 0, rsx = 8, rows_alloc = 0, cols_alloc = 0, buf_floats = 0;
  std::size_t shared = 0;
};

// Shared memory of one block for tile height th: mid (np planes of rows x kMidW floats) and
// `nbuf` prefetch buffers (taps and np window planes).
TileChoice tile_layout(const Windows& w, int kt, int np, int in_bytes, int th, int nbuf) {
  TileChoice c;
  c.th = th;
  int cols = round_up(w.max_cols, 2);
  if (in_bytes == 2) {
    if (cols % 4 != 2) cols += 2;  // odd word stride: conflict-free column reads
  } else if (cols % 2 == 0) {
    ++cols;
  }
  c.rows_alloc = w.max_rows;
  c.cols_alloc = cols;
  const int kp = packed_floats(kt);
  const std::size_t window_bytes = static_cast<std::size_t>(np) * w.max_rows * cols * in_bytes;
  c.buf_floats = (kTileW + th) * kp + round_up(static_cast<int>((window_bytes + 3) / 4), 4);
  c.shared = (static_cast<std::size_t>(np) * w.max_rows * kMidW + static_cast<std::size_t>(nbuf) * c.buf_floats) * 4;
  return c;
}

// Tile height: the tallest (fewest window rows per output row, longest vertical runs) whose
// block still leaves room for `want` blocks per multiprocessor, within `limit` bytes.
TileChoice choose_tile(const detail::Taps& h, const detail::Taps& v, int kt, int np, int in_bytes, int dw, int dh,
                       int nbuf, std::size_t limit, std::size_t per_sm, int want) {
  TileChoice best;
  for (int th = kVertSegments; th <= 64; th += kVertSegments) {
    const TileChoice c = tile_layout(windows(h, v, kt, dw, dh, th), kt, np, in_bytes, th, nbuf);
    if (c.shared > limit) break;
    if (best.th != 0 && (c.shared + 1024) * want > per_sm) break;
    best = c;
  }
  return best;
}

std::size_t device_attr(cudaDeviceAttr attr, std::size_t fallback) {
  int dev = 0, v = 0;
  if (cudaGetDevice(&dev) != cudaSuccess || cudaDeviceGetAttribute(&v, attr, dev) != cudaSuccess) {
    cudaGetLastError();
    return fallback;
  }
  return static_cast<std::size_t>(v);
}

// Lets a kernel use `bytes` of dynamic shared memory and prefer the largest shared-memory
// carve-out (the default split can leave room for fewer blocks than the registers allow).
template <typename Kernel>
void configure_kernel(Kernel k, std::size_t bytes) {
  cuda_check(cudaFuncSetAttribute(k, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxShared),
             "ResizeCuda: shared-memory carve-out");
  if (bytes > 48 * 1024)
    cuda_check(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
               "ResizeCuda: shared-memory limit");
}

// Blocks for a run: one per tile, or for the persistent loop as many as fit at once.
template <typename Kernel>
unsigned grid_for(Kernel k, std::size_t bytes, int ntiles, bool persist) {
  if (!persist) return static_cast<unsigned>(ntiles);
  int per_sm = 0;
  cuda_check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, kTiledThreads, bytes), "ResizeCuda: occupancy");
  const int sms = static_cast<int>(device_attr(cudaDevAttrMultiProcessorCount, 1));
  return static_cast<unsigned>(std::max(1, std::min(ntiles, per_sm * sms)));
}

}  // namespace

// One tile per block (false) or the persistent, double-buffered tile loop (true). Measured on
// an H200 the persistent loop was 10-20% slower for every filter and scale in the benchmark
// (fewer tiles in flight per multiprocessor than blocks would be), so it is off; the code
// stays for other chips and tile shapes.
constexpr bool kPersistent = false;

struct ResizeCuda::Impl {
  int sw, sh, dw, dh;
  detail::Taps h, v;
  DeviceBuffer tables;  // h.first | v.first | h.weights | v.weights, for the two-pass kernels
  DeviceBuffer tmp;     // 3 planes of sh x dw floats, allocated on first two-pass use
  TapTable ht{}, vt{};
  int kt = 0;             // > 0: the tiled kernel with this many taps
  bool periodic = false;  // plane runs take the periodic kernel (resize_periodic_cuda.cu)
  detail::PeriodicTaps ptaps;
  // Tiled runs: planar float16, planar float32, fused frame (choice.th 0: not tiled).
  struct Tiled {
    TileChoice c;
    const float *htab = nullptr, *vtab = nullptr;
    const int2 *xinfo = nullptr, *yinfo = nullptr;
    int ntx = 0, nty = 0;
  } tiled[3];
  DeviceBuffer packed;                                     // packed taps and window tables of the three
  std::vector<std::pair<const void*, int>> blocks_per_sm;  // configured kernels

  void ensure_tmp() {
    if (tmp.get() == nullptr) tmp = DeviceBuffer(static_cast<std::size_t>(3) * sh * dw * sizeof(float));
  }

  // The fused frame run of a periodic plan: the frame converted to float32 RGB (to_rgb_cuda)
  // in `rgb` (3 pitched planes of sw x sh, allocated on first use), then the aligned periodic
  // kernel from it. Same values as to_rgb followed by resize, rounded once; at 3840x2160 it
  // beat the fused tiled kernel (docs/kernels.md, twenty-second session).
  // UPSCALED_RESIZE_FRAME_VIA_RGB=0 (read once per process) keeps the fused tiled kernel.
  DeviceBuffer rgb;
  static bool frame_via_rgb() {
    static const bool on = [] {
      const char* v = std::getenv("UPSCALED_RESIZE_FRAME_VIA_RGB");
      return !(v && std::string(v) == "0");
    }();
    return on;
  }
  RgbPlanes<float> rgb_planes() {
    if (rgb.get() == nullptr)
      rgb = DeviceBuffer(static_cast<std::size_t>(sw) * sizeof(float), 3 * static_cast<std::size_t>(sh));
    const auto pitch = static_cast<std::ptrdiff_t>(rgb.pitch());
    auto plane = [&](int c) { return PlaneView<float>{row_ptr(rgb.as<float>(), pitch, c * sh), sw, sh, pitch}; };
    return {plane(0), plane(1), plane(2)};
  }

  TiledArgs args(int which, int planes) const {
    const Tiled& t = tiled[which];
    return {t.htab,
            t.vtab,
            t.xinfo,
            t.yinfo,
            sw,
            sh,
            dw,
            dh,
            t.c.th,
            t.c.rsx,
            t.c.rows_alloc,
            t.c.cols_alloc,
            t.ntx,
            t.nty,
            t.ntx * t.nty * planes,
            t.c.buf_floats};
  }

  // Grid for `k` (configured on first use: shared-memory limit and carve-out, occupancy).
  template <typename Kernel>
  unsigned grid(Kernel k, const TileChoice& c, int ntiles) {
    const void* key = reinterpret_cast<const void*>(k);
    int per_sm = -1;
    for (const auto& e : blocks_per_sm)
      if (e.first == key) per_sm = e.second;
    if (per_sm < 0) {
      configure_kernel(k, c.shared);
      cuda_check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, kTiledThreads, c.shared),
                 "ResizeCuda: occupancy");
      blocks_per_sm.emplace_back(key, per_sm);
    }
    if (!kPersistent) return static_cast<unsigned>(ntiles);
    const int sms = static_cast<int>(device_attr(cudaDevAttrMultiProcessorCount, 1));
    return static_cast<unsigned>(std::max(1, std::min(ntiles, std::max(1, per_sm) * sms)));
  }

  template <typename T>
  void launch_tiled(const Planes3<const T>& s, const Planes3<T>& d, int planes, cudaStream_t stream) {
    const int which = sizeof(T) == 2 ? 0 : 1;
    const TileChoice& c = tiled[which].c;
    const TiledArgs a = args(which, planes);
    auto go = [&](auto kernel) { kernel<<<grid(kernel, c, a.ntiles), kTiledThreads, c.shared, stream>>>(a, s, d); };
    switch (kt) {
      case 3:
        go(resize_tiled<3, T, T, kPersistent>);
        break;
      case 5:
        go(resize_tiled<5, T, T, kPersistent>);
        break;
      case 7:
        go(resize_tiled<7, T, T, kPersistent>);
        break;
      case 9:
        go(resize_tiled<9, T, T, kPersistent>);
        break;
      default:
        go(resize_tiled<13, T, T, kPersistent>);
        break;
    }
    cuda_check_launch("ResizeCuda tiled pass");
  }

  template <typename S, typename T>
  void launch_tiled_frame(const FrameSampler& f, const Planes3<T>& d, cudaStream_t stream) {
    const TileChoice& c = tiled[2].c;
    const TiledArgs a = args(2, 1);
    auto go = [&](auto kernel) { kernel<<<grid(kernel, c, a.ntiles), kTiledThreads, c.shared, stream>>>(a, f, d); };
    switch (kt) {
      case 3:
        go(resize_tiled_frame<3, S, T, kPersistent>);
        break;
      case 5:
        go(resize_tiled_frame<5, S, T, kPersistent>);
        break;
      case 7:
        go(resize_tiled_frame<7, S, T, kPersistent>);
        break;
      case 9:
        go(resize_tiled_frame<9, S, T, kPersistent>);
        break;
      default:
        go(resize_tiled_frame<13, S, T, kPersistent>);
        break;
    }
    cuda_check_launch("ResizeCuda tiled fused conversion");
  }

  template <typename HostT>
  void run(const RgbPlanes<const HostT>& src, const RgbPlanes<HostT>& dst, int planes, Stream stream) {
    using T = typename DeviceType<HostT>::type;
    for (int c = 0; c < planes; ++c) {
      const auto s = src.plane(c);
      const auto d = dst.plane(c);
      if (s.data == nullptr || d.data == nullptr || s.width != sw || s.height != sh || d.width != dw || d.height != dh)
        throw std::invalid_argument("ResizeCuda::run: planes " + std::to_string(s.width) + "x" +
                                    std::to_string(s.height) + " -> " + std::to_string(d.width) + "x" +
                                    std::to_string(d.height) + " do not match the plan " + std::to_string(sw) + "x" +
                                    std::to_string(sh) + " -> " + std::to_string(dw) + "x" + std::to_string(dh));
    }
    const Planes3<const T> s = planes3<const T>(src);
    const Planes3<T> d = planes3<T>(dst);
    if (periodic && launch_periodic<T, T>(ptaps, s, d, planes, sw, sh, dw, dh, to_cuda(stream))) return;
    if (tiled[sizeof(T) == 2 ? 0 : 1].c.th > 0) {
      launch_tiled<T>(s, d, planes, to_cuda(stream));
      return;
    }
    const dim3 block(32, 8);
    ensure_tmp();
    h_pass<T><<<dim3(div_up(dw, 32), div_up(sh, 8), planes), block, 0, to_cuda(stream)>>>(s, sw, sh, dw, ht,
                                                                                          tmp.as<float>());
    cuda_check_launch("ResizeCuda horizontal pass");
    v_pass<T><<<dim3(div_up(dw, 32), div_up(dh, 8), planes), block, 0, to_cuda(stream)>>>(tmp.as<float>(), sh, dw, dh,
                                                                                          vt, d);
    cuda_check_launch("ResizeCuda vertical pass");
  }

  template <typename HostT>
  void run_frame(const FrameView& src, const ColorSpec& spec, const RgbPlanes<HostT>& dst, Stream stream) {
    using T = typename DeviceType<HostT>::type;
    validate_frame(src, "ResizeCuda::run(frame)");
    bool ok = src.width == sw && src.height == sh;
    for (int c = 0; c < 3; ++c) {
      const auto d = dst.plane(c);
      ok = ok && d.data != nullptr && d.width == dw && d.height == dh;
    }
    if (!ok)
      throw std::invalid_argument("ResizeCuda::run(frame): frame " + std::to_string(src.width) + "x" +
                                  std::to_string(src.height) + " or destination does not match the plan " +
                                  std::to_string(sw) + "x" + std::to_string(sh) + " -> " + std::to_string(dw) + "x" +
                                  std::to_string(dh));
    if (periodic && frame_via_rgb()) {
      const RgbPlanes<float> rgb3 = rgb_planes();
      to_rgb_cuda(src, spec, rgb3, stream);
      // The intermediate's pitch is cudaMallocPitch's: every periodic ratio has a kernel for it.
      if (!launch_periodic<float, T>(ptaps, planes3<const float>(rgb3.as_const()), planes3<T>(dst), 3, sw, sh, dw, dh,
                                     to_cuda(stream)))
        throw std::logic_error("ResizeCuda::run(frame): no periodic kernel for the float32 intermediate");
      return;
    }
    const FrameSampler f = make_sampler(src, spec);
    if (tiled[2].c.th > 0) {
      if (f.li.bytes == 1)
        launch_tiled_frame<std::uint8_t, T>(f, planes3<T>(dst), to_cuda(stream));
      else
        launch_tiled_frame<std::uint16_t, T>(f, planes3<T>(dst), to_cuda(stream));
      return;
    }
    ensure_tmp();
    const dim3 block(32, 8);
    const dim3 hgrid(div_up(dw, 32), div_up(sh, 8));
    if (f.li.bytes == 1)
      h_pass_frame<std::uint8_t><<<hgrid, block, 0, to_cuda(stream)>>>(f, dw, ht, tmp.as<float>());
    else
      h_pass_frame<std::uint16_t><<<hgrid, block, 0, to_cuda(stream)>>>(f, dw, ht, tmp.as<float>());
    cuda_check_launch("ResizeCuda fused conversion + horizontal pass");
    v_pass<T><<<dim3(div_up(dw, 32), div_up(dh, 8), 3), block, 0, to_cuda(stream)>>>(tmp.as<float>(), sh, dw, dh, vt,
                                                                                     planes3<T>(dst));
    cuda_check_launch("ResizeCuda vertical pass");
  }
};

ResizeCuda::ResizeCuda(int src_width, int src_height, int dst_width, int dst_height, ResizeFilter filter,
                       ResizeStrategy strategy) {
  if (src_width <= 0 || src_height <= 0 || dst_width <= 0 || dst_height <= 0)
    throw std::invalid_argument("ResizeCuda: empty size");
  impl_ = std::make_unique<Impl>();
  Impl& m = *impl_;
  m.sw = src_width;
  m.sh = src_height;
  m.dw = dst_width;
  m.dh = dst_height;
  m.h = detail::make_taps(src_width, dst_width, filter);
  m.v = detail::make_taps(src_height, dst_height, filter);
  const std::size_t ints = m.h.first.size() + m.v.first.size();
  const std::size_t floats = m.h.weights.size() + m.v.weights.size();
  std::vector<unsigned char> host(ints * sizeof(int) + floats * sizeof(float));
  unsigned char* p = host.data();
  auto put = [&p](const void* data, std::size_t bytes) {
    std::memcpy(p, data, bytes);
    p += bytes;
  };
  put(m.h.first.data(), m.h.first.size() * sizeof(int));
  put(m.v.first.data(), m.v.first.size() * sizeof(int));
  put(m.h.weights.data(), m.h.weights.size() * sizeof(float));
  put(m.v.weights.data(), m.v.weights.size() * sizeof(float));
  m.tables = DeviceBuffer(host.size());
  cuda_check(cudaMemcpy(m.tables.get(), host.data(), host.size(), cudaMemcpyHostToDevice), "ResizeCuda tap upload");
  const auto* base = static_cast<const unsigned char*>(m.tables.get());
  const int* hf = reinterpret_cast<const int*>(base);
  const int* vf = hf + m.h.first.size();
  const float* hw = reinterpret_cast<const float*>(vf + m.v.first.size());
  const float* vw = hw + m.h.weights.size();
  m.ht = {hf, hw, m.h.count};
  m.vt = {vf, vw, m.v.count};
  if (strategy == ResizeStrategy::two_pass) return;
  if (strategy == ResizeStrategy::automatic && detail::find_periodic(m.h, m.v, m.sw, m.sh, m.dw, m.dh, m.ptaps) &&
      periodic_supported(m.ptaps)) {
    configure_periodic(m.ptaps);
    m.periodic = true;
  }
  m.kt = bucket_for(std::max(m.h.count, m.v.count));
  if (m.kt == 0) return;
  // Tiles within the device's opt-in shared-memory limit per block (capped at 96 KiB), tall
  // enough for long vertical runs yet leaving room for as many blocks per multiprocessor as
  // the registers allow: planar float16, planar float32 and fused frame runs.
  const std::size_t limit =
      std::min<std::size_t>(device_attr(cudaDevAttrMaxSharedMemoryPerBlockOptin, 48 * 1024), 96 * 1024);
  const std::size_t per_sm = device_attr(cudaDevAttrMaxSharedMemoryPerMultiprocessor, 64 * 1024);
  const int nbuf = kPersistent ? 2 : 1;
  const int want = min_blocks(m.kt);
  const int np[3] = {1, 1, 3}, in_bytes[3] = {2, 4, 4};
  std::vector<unsigned char> all;
  std::size_t offs[3][4] = {};
  auto append = [&all](const void* data, std::size_t bytes) {
    const std::size_t at = (all.size() + 15) / 16 * 16;
    all.resize(at + bytes);
    std::memcpy(all.data() + at, data, bytes);
    return at;
  };
  const std::vector<float> ph = pack_taps(m.h, m.kt, round_up(dst_width, kTileW));
  for (int i = 0; i < 3; ++i) {
    Impl::Tiled& t = m.tiled[i];
    t.c = choose_tile(m.h, m.v, m.kt, np[i], in_bytes[i], dst_width, dst_height, nbuf, limit, per_sm, want);
    if (t.c.th == 0) continue;
    const Windows w = windows(m.h, m.v, m.kt, dst_width, dst_height, t.c.th);
    t.ntx = static_cast<int>(w.x.size() / 2);
    t.nty = static_cast<int>(w.y.size() / 2);
    const std::vector<float> pv = pack_taps(m.v, m.kt, round_up(dst_height, t.c.th));
    offs[i][0] = append(ph.data(), ph.size() * sizeof(float));
    offs[i][1] = append(pv.data(), pv.size() * sizeof(float));
    offs[i][2] = append(w.x.data(), w.x.size() * sizeof(int));
    offs[i][3] = append(w.y.data(), w.y.size() * sizeof(int));
  }
  if (all.empty()) return;
  m.packed = DeviceBuffer(all.size());
  cuda_check(cudaMemcpy(m.packed.get(), all.data(), all.size(), cudaMemcpyHostToDevice), "ResizeCuda tap upload");
  const auto* at = static_cast<const unsigned char*>(m.packed.get());
  for (int i = 0; i < 3; ++i) {
    Impl::Tiled& t = m.tiled[i];
    if (t.c.th == 0) continue;
    t.htab = reinterpret_cast<const float*>(at + offs[i][0]);
    t.vtab = reinterpret_cast<const float*>(at + offs[i][1]);
    t.xinfo = reinterpret_cast<const int2*>(at + offs[i][2]);
    t.yinfo = reinterpret_cast<const int2*>(at + offs[i][3]);
  }
}

ResizeCuda::~ResizeCuda() = default;
bool ResizeCuda::tiled() const {
  return impl_->periodic || (impl_->tiled[0].c.th > 0 && impl_->tiled[1].c.th > 0);
}
bool ResizeCuda::periodic() const {
  return impl_->periodic;
}
ResizeCuda::ResizeCuda(ResizeCuda&&) noexcept = default;
ResizeCuda& ResizeCuda::operator=(ResizeCuda&&) noexcept = default;

void ResizeCuda::run(PlaneView<const float> src, PlaneView<float> dst, Stream stream) {
  impl_->run<float>(RgbPlanes<const float>{src, src, src}, RgbPlanes<float>{dst, dst, dst}, 1, stream);
}
void ResizeCuda::run(PlaneView<const Half> src, PlaneView<Half> dst, Stream stream) {
  impl_->run<Half>(RgbPlanes<const Half>{src, src, src}, RgbPlanes<Half>{dst, dst, dst}, 1, stream);
}
void ResizeCuda::run(RgbPlanes<const float> src, RgbPlanes<float> dst, Stream stream) {
  impl_->run<float>(src, dst, 3, stream);
}
void ResizeCuda::run(RgbPlanes<const Half> src, RgbPlanes<Half> dst, Stream stream) {
  impl_->run<Half>(src, dst, 3, stream);
}

void ResizeCuda::reserve_frame_runs() {
  if (impl_->periodic && Impl::frame_via_rgb()) impl_->rgb_planes();
}
void ResizeCuda::run(const FrameView& src, const ColorSpec& spec, RgbPlanes<float> dst, Stream stream) {
  impl_->run_frame(src, spec, dst, stream);
}
void ResizeCuda::run(const FrameView& src, const ColorSpec& spec, RgbPlanes<Half> dst, Stream stream) {
  impl_->run_frame(src, spec, dst, stream);
}

namespace detail {
const void* resize_module() {  // cuda_modules.h
  return reinterpret_cast<const void*>(&h_pass<float>);
}
}  // namespace detail

}  // namespace upscaled::kernels
