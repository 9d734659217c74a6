// The kernels of ResizeCuda (resize_cuda.cu) and their host-side launch planning: the two-pass
// kernels through a float32 intermediate, the tiled kernel (planar and fused frame runs) built
// from resize_tiled_tile.cuh's phases, the tap-count buckets, packed tap tables, tile windows
// and tile heights, and the launch configuration helpers. Internal to kernels/, included by
// resize_cuda.cu only (its definitions have internal linkage there).
//
// Contract: the kernels run on the stream resize_cuda.cu launches them on, with the plan's
// device tables (owned by ResizeCuda::Impl) alive until the stream passes; the host functions
// are synchronous and make no CUDA call but configure_kernel, grid_for and device_attr (which
// set or query the current device's kernel attributes).
#pragma once

#include "kernels/resize_taps.h"
#include "kernels/resize_tiled_tile.cuh"

#include <algorithm>
#include <cstring>
#include <vector>

namespace upscaled::kernels {
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
}  // namespace upscaled::kernels
