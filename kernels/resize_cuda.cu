// CUDA twin of resize_cpu: the same tap tables (make_taps) and the same two passes
// (horizontal, then vertical) with the same sums. Two strategies (blockIdx.z = plane):
//
//  - tiled (default): one kernel per run. A block of 256 threads owns a 128-wide output tile
//    of `th` rows (8..64, chosen per plan) and
//      1. copies the tile's source window into shared memory (float16 planes stay float16
//         there: exact, and half the bytes; the fused frame run converts each source pixel
//         of the decoded frame here instead, so no full-size RGB frame is ever written);
//      2. horizontal pass: a thread takes two window rows and a run of 8 or 16 output
//         columns, keeps the taps of each row in registers and slides them along the row
//         (one new shared-memory read per source column crossed, not one per tap); the
//         weights of a column are the same for every row, so a warp reads them once
//         (broadcast); results go to a float32 tile in shared memory, 16 bytes at a time;
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
#include "kernels/frame_sampler.cuh"
#include "kernels/resize.h"
#include "kernels/resize_taps.h"

#include <algorithm>
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

template <int KP>
UPSCALED_HD void load_taps(const float* tab, int i, float w[KP]) {
  const float4* p = reinterpret_cast<const float4*>(tab + static_cast<std::size_t>(i) * KP);
#pragma unroll
  for (int q = 0; q < KP / 4; ++q) {
#ifdef __CUDA_ARCH__
    const float4 v = __ldg(p + q);
#else
    const float4 v = p[q];
#endif
    w[4 * q] = v.x, w[4 * q + 1] = v.y, w[4 * q + 2] = v.z, w[4 * q + 3] = v.w;
  }
}

template <int KP>
UPSCALED_HD int tap_first(const float* tab, int i) {
  return float_bits(tab[static_cast<std::size_t>(i) * KP + KP - 1]);
}

struct TiledArgs {
  const float* htab;  // packed horizontal taps, padded to a multiple of kTileW entries
  const float* vtab;  // packed vertical taps, padded to a multiple of th entries
  int sw, sh, dw, dh;
  int th;                      // tile height, multiple of kVertSegments
  int rsx;                     // horizontal-pass run length: 8 or 16
  int rows_alloc, cols_alloc;  // shared-memory window: rows per plane, row stride (elements)
};

// One block's tile: origin and source window.
struct TileCtx {
  int x0, y0, z;  // output tile origin, plane (planar runs)
  int wx0, wy0;   // source window origin (wx0 even)
  int ncols, nrows;
};

template <int KT>
UPSCALED_HD TileCtx tile_ctx(const TiledArgs& a, int bx, int by, int bz) {
  constexpr int KP = packed_floats(KT);
  TileCtx t;
  t.x0 = bx * kTileW;
  t.y0 = by * a.th;
  t.z = bz;
  const int fx = tap_first<KP>(a.htab, t.x0);
  t.wx0 = fx - (fx & 1);  // even, so that float16 pairs load as one word
  t.ncols = tap_first<KP>(a.htab, t.x0 + kTileW - 1) + KT - t.wx0;
  t.wy0 = tap_first<KP>(a.vtab, t.y0);
  t.nrows = tap_first<KP>(a.vtab, t.y0 + a.th - 1) + KT - t.wy0;
  return t;
}

// ---- Phase 1: source window -> shared memory (replicated borders by clamping).

// 4-byte global -> shared copy that does not wait for the load (cp.async, sm_80+): a thread
// issues all of its window's loads at once instead of one round trip per register batch.
// async_wait() before the barrier. Plain copies on older targets and on the host.
UPSCALED_HD void copy4_async(void* smem, const void* global) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const auto s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(s), "l"(global) : "memory");
#else
  memcpy(smem, global, 4);
#endif
}
UPSCALED_HD void async_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_all;\n" ::: "memory");
#endif
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
  async_wait();
}

// Planar float32 (rows of 4-byte aligned floats).
UPSCALED_HD void fill_window(const TiledArgs& a, const TileCtx& t, const Planes3<const float>& src, float* in,
                             int tid) {
  for (int r = tid >> 5; r < t.nrows; r += kTiledThreads / 32) {
    const float* row = src.row_dyn(t.z, clampi(t.wy0 + r, 0, a.sh - 1));
    float* out = in + r * a.cols_alloc;
    for (int c = tid & 31; c < t.ncols; c += 32) copy4_async(out + c, row + clampi(t.wx0 + c, 0, a.sw - 1));
  }
  async_wait();
}

// Decoded frame: each source pixel converted as to_rgb does, into three float planes.
template <typename S>
UPSCALED_HD void fill_window_frame(const TiledArgs& a, const TileCtx& t, const FrameSampler& f, float* in, int tid) {
  const std::size_t plane = static_cast<std::size_t>(a.rows_alloc) * a.cols_alloc;
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
UPSCALED_HD void h_pass_tile(const TiledArgs& a, const TileCtx& t, const InT* in, float* mid, int tid) {
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
    int cur = tap_first<KP>(a.htab, t.x0 + xs) - t.wx0;
    float w0[KT], w1[KT];
#pragma unroll
    for (int k = 0; k < KT; ++k) w0[k] = to_f(i0[cur + k]), w1[k] = to_f(i1[cur + k]);
    for (int xx = xs; xx < xs + a.rsx; xx += 4) {
      float b0[4], b1[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        float wt[KP];
        load_taps<KP>(a.htab, t.x0 + xx + q, wt);
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
UPSCALED_HD void v_pass_tile(const TiledArgs& a, const TileCtx& t, const float* mid, const Planes3<T>& dst, int tid) {
  constexpr int KP = packed_floats(KT);
  const int g = tid & 31, seg = tid >> 5;
  const int rs = a.th / kVertSegments;
  const int ys = seg * rs;
  const int x = t.x0 + 4 * g;
  if (x >= a.dw || t.y0 + ys >= a.dh) return;
  const int first = tap_first<KP>(a.vtab, t.y0 + ys) - t.wy0;
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
      load_taps<KP>(a.vtab, y, wt);
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

// The tiled kernel: planar (NP = 1, blockIdx.z = plane) or fused frame (NP = 3).
template <int KT, typename InT, typename T>
__global__ void __launch_bounds__(kTiledThreads, min_blocks(KT))
    resize_tiled(TiledArgs a, Planes3<const InT> src, Planes3<T> dst) {
  extern __shared__ float4 smem4[];
  float* mid = reinterpret_cast<float*>(smem4);
  InT* in = reinterpret_cast<InT*>(mid + a.rows_alloc * kMidW);
  const TileCtx t = tile_ctx<KT>(a, blockIdx.x, blockIdx.y, blockIdx.z);
  const int tid = threadIdx.x;
  fill_window(a, t, src, in, tid);
  __syncthreads();
  h_pass_tile<KT, 1>(a, t, in, mid, tid);
  __syncthreads();
  v_pass_tile<KT, 1>(a, t, mid, dst, tid);
}

template <int KT, typename S, typename T>
__global__ void __launch_bounds__(kTiledThreads, min_blocks(KT))
    resize_tiled_frame(TiledArgs a, FrameSampler f, Planes3<T> dst) {
  extern __shared__ float4 smem4[];
  float* mid = reinterpret_cast<float*>(smem4);
  float* in = mid + 3 * a.rows_alloc * kMidW;
  const TileCtx t = tile_ctx<KT>(a, blockIdx.x, blockIdx.y, 0);
  const int tid = threadIdx.x;
  fill_window_frame<S>(a, t, f, in, tid);
  __syncthreads();
  h_pass_tile<KT, 3>(a, t, in, mid, tid);
  __syncthreads();
  v_pass_tile<KT, 3>(a, t, mid, dst, tid);
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

// Shared-memory window sizes of every tile for tile height th.
struct Window {
  int rows = 0, cols = 0;
};
Window max_window(const detail::Taps& h, const detail::Taps& v, int kt, int dw, int dh, int th) {
  Window w;
  for (int x0 = 0; x0 < dw; x0 += kTileW) {
    const int f0 = h.first[x0];
    const int wx0 = f0 - (f0 & 1);
    w.cols = std::max(w.cols, h.first[std::min(x0 + kTileW, dw) - 1] + kt - wx0);
  }
  for (int y0 = 0; y0 < dh; y0 += th) w.rows = std::max(w.rows, v.first[std::min(y0 + th, dh) - 1] + kt - v.first[y0]);
  return w;
}

struct TileChoice {
  int th = 0, rsx = 16, rows_alloc = 0, cols_alloc = 0;
  std::size_t shared = 0;
};

// Picks the tile height and run length with the lowest estimated cost per output (shared-
// memory wavefronts and issue slots, from the access counts of the three phases) among those
// whose window fits `limit` bytes of shared memory. np: planes per block; in_bytes: bytes per
// window sample.
TileChoice choose_tile(const detail::Taps& h, const detail::Taps& v, int kt, int np, int in_bytes, int sw, int sh,
                       int dw, int dh, std::size_t limit, std::size_t per_sm) {
  TileChoice best;
  double best_cost = 0;
  const int kp = packed_floats(kt);
  const double shx = static_cast<double>(sw) / dw, shy = static_cast<double>(sh) / dh;
  for (int th = 64; th >= kVertSegments; th -= kVertSegments) {
    const Window w = max_window(h, v, kt, dw, dh, th);
    int cols = round_up(w.cols, 2);
    if (in_bytes == 2) {
      if (cols % 4 != 2) cols += 2;  // odd word stride: conflict-free column reads
    } else if (cols % 2 == 0) {
      ++cols;
    }
    const std::size_t bytes = static_cast<std::size_t>(np) * w.rows *
                              (static_cast<std::size_t>(kMidW) * 4 + static_cast<std::size_t>(cols) * in_bytes);
    if (bytes > limit) continue;
    const double blocks_per_sm = std::min(static_cast<double>(min_blocks(kt)) + (kt <= 3 ? 1 : 0),
                                          std::floor(static_cast<double>(per_sm) / static_cast<double>(bytes + 1024)));
    if (blocks_per_sm < 1) continue;
    for (int rsx : {8, 16}) {
      const double items = np * std::ceil(w.rows / 2.0) * (kTileW / rsx);
      const double h_cost =
          std::ceil(items / 32) * (rsx * (kp / 4.0 + 2 * shx + 2 + (2.0 * kt + 2 * shx * kt) / 4) + 2.0 * kt);
      const double rs = th / kVertSegments;
      const double v_cost = np * kVertSegments * (rs * (kp / 4.0 + 4 * shy + kt + shy * kt + 1) + 4.0 * kt);
      const double fill = np * static_cast<double>(w.rows) * w.cols / 32 * (in_bytes == 2 ? 1 : 2);
      double cost = (h_cost + v_cost + fill) / (static_cast<double>(np) * kTileW * th);
      if (blocks_per_sm < 3) cost *= 1.1;
      if (best.th == 0 || cost < best_cost) {
        best_cost = cost;
        best = {th, rsx, w.rows, cols, bytes};
      }
    }
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

template <typename Kernel>
void allow_shared(Kernel k, std::size_t bytes) {
  if (bytes > 48 * 1024)
    cuda_check(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
               "ResizeCuda: shared-memory limit");
}

}  // namespace

struct ResizeCuda::Impl {
  int sw, sh, dw, dh;
  detail::Taps h, v;
  DeviceBuffer tables;  // h.first | v.first | h.weights | v.weights, for the two-pass kernels
  DeviceBuffer tmp;     // 3 planes of sh x dw floats, allocated on first two-pass use
  TapTable ht{}, vt{};
  int kt = 0;                     // > 0: the tiled kernel with this many taps
  TileChoice tile_h16, tile_f32;  // planar float16 / float32 tiles (th 0: not tiled)
  TileChoice tile_frame;          // fused frame runs
  DeviceBuffer packed;            // packed tables of the three tile choices
  const float* ph[3] = {};        // per choice: horizontal, vertical packed tables
  const float* pv[3] = {};

  void ensure_tmp() {
    if (tmp.get() == nullptr) tmp = DeviceBuffer(static_cast<std::size_t>(3) * sh * dw * sizeof(float));
  }

  TiledArgs args(const TileChoice& c, int which) const {
    return {ph[which], pv[which], sw, sh, dw, dh, c.th, c.rsx, c.rows_alloc, c.cols_alloc};
  }

  template <typename T>
  void launch_tiled(const Planes3<const T>& s, const Planes3<T>& d, int planes, cudaStream_t stream) {
    const int which = sizeof(T) == 2 ? 0 : 1;
    const TileChoice& c = which == 0 ? tile_h16 : tile_f32;
    const TiledArgs a = args(c, which);
    const dim3 grid(div_up(dw, kTileW), div_up(dh, c.th), planes);
    auto go = [&](auto kernel) {
      allow_shared(kernel, c.shared);
      kernel<<<grid, kTiledThreads, c.shared, stream>>>(a, s, d);
    };
    switch (kt) {
      case 3:
        go(resize_tiled<3, T, T>);
        break;
      case 5:
        go(resize_tiled<5, T, T>);
        break;
      case 7:
        go(resize_tiled<7, T, T>);
        break;
      case 9:
        go(resize_tiled<9, T, T>);
        break;
      default:
        go(resize_tiled<13, T, T>);
        break;
    }
    cuda_check_launch("ResizeCuda tiled pass");
  }

  template <typename S, typename T>
  void launch_tiled_frame(const FrameSampler& f, const Planes3<T>& d, cudaStream_t stream) {
    const TileChoice& c = tile_frame;
    const TiledArgs a = args(c, 2);
    const dim3 grid(div_up(dw, kTileW), div_up(dh, c.th), 1);
    auto go = [&](auto kernel) {
      allow_shared(kernel, c.shared);
      kernel<<<grid, kTiledThreads, c.shared, stream>>>(a, f, d);
    };
    switch (kt) {
      case 3:
        go(resize_tiled_frame<3, S, T>);
        break;
      case 5:
        go(resize_tiled_frame<5, S, T>);
        break;
      case 7:
        go(resize_tiled_frame<7, S, T>);
        break;
      case 9:
        go(resize_tiled_frame<9, S, T>);
        break;
      default:
        go(resize_tiled_frame<13, S, T>);
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
    if ((sizeof(T) == 2 ? tile_h16 : tile_f32).th > 0) {
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
    const FrameSampler f = make_sampler(src, spec);
    if (tile_frame.th > 0) {
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
  m.kt = bucket_for(std::max(m.h.count, m.v.count));
  if (m.kt == 0) return;
  // Tiles: the device's opt-in shared-memory limit per block (capped, so that a few blocks
  // share a multiprocessor), for planar float16, planar float32 and fused frame runs.
  const std::size_t limit =
      std::min<std::size_t>(device_attr(cudaDevAttrMaxSharedMemoryPerBlockOptin, 48 * 1024), 96 * 1024);
  const std::size_t per_sm = device_attr(cudaDevAttrMaxSharedMemoryPerMultiprocessor, 64 * 1024);
  const int W = src_width, H = src_height, w = dst_width, hh = dst_height;
  m.tile_h16 = choose_tile(m.h, m.v, m.kt, 1, 2, W, H, w, hh, limit, per_sm);
  m.tile_f32 = choose_tile(m.h, m.v, m.kt, 1, 4, W, H, w, hh, limit, per_sm);
  m.tile_frame = choose_tile(m.h, m.v, m.kt, 3, 4, W, H, w, hh, limit, per_sm);
  const TileChoice* choice[3] = {&m.tile_h16, &m.tile_f32, &m.tile_frame};
  std::vector<float> all;
  std::size_t offs[3][2] = {};
  const int padded_w = round_up(w, kTileW);
  for (int i = 0; i < 3; ++i) {
    if (choice[i]->th == 0) continue;
    offs[i][0] = all.size();
    const std::vector<float> ph = pack_taps(m.h, m.kt, padded_w);
    all.insert(all.end(), ph.begin(), ph.end());
    offs[i][1] = all.size();
    const std::vector<float> pv = pack_taps(m.v, m.kt, round_up(hh, choice[i]->th));
    all.insert(all.end(), pv.begin(), pv.end());
  }
  if (all.empty()) return;
  m.packed = DeviceBuffer(all.size() * sizeof(float));
  cuda_check(cudaMemcpy(m.packed.get(), all.data(), all.size() * sizeof(float), cudaMemcpyHostToDevice),
             "ResizeCuda packed tap upload");
  for (int i = 0; i < 3; ++i) {
    if (choice[i]->th == 0) continue;
    m.ph[i] = m.packed.as<float>() + offs[i][0];
    m.pv[i] = m.packed.as<float>() + offs[i][1];
  }
}

ResizeCuda::~ResizeCuda() = default;
bool ResizeCuda::tiled() const {
  return impl_->tile_h16.th > 0 && impl_->tile_f32.th > 0;
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

void ResizeCuda::run(const FrameView& src, const ColorSpec& spec, RgbPlanes<float> dst, Stream stream) {
  impl_->run_frame(src, spec, dst, stream);
}
void ResizeCuda::run(const FrameView& src, const ColorSpec& spec, RgbPlanes<Half> dst, Stream stream) {
  impl_->run_frame(src, spec, dst, stream);
}

}  // namespace upscaled::kernels
