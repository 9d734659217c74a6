// CUDA twin of resize_cpu: the same tap tables (make_taps) and the same two passes with the
// same sums. Two strategies (blockIdx.z = plane in both):
//  - tiled (default): one kernel; a block loads the source window of a 64 x tile_h output
//    tile into shared memory, runs the horizontal pass into shared memory and the vertical
//    pass into dst. DRAM traffic is about one read of src and one write of dst; a two-pass
//    version would add a write and a read of a float32 intermediate larger than dst's input.
//  - two passes through a float32 intermediate in device memory, for windows too large for
//    48 KiB of shared memory (strong downscales), and for the fused conversion + resize.
#include "kernels/frame_sampler.cuh"
#include "kernels/resize.h"
#include "kernels/resize_taps.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
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
  const T* in = src.row(z, y);
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

constexpr int kTileW = 64;
constexpr std::size_t kMaxShared = 48 * 1024;

template <typename T>
__global__ void resize_tiled(Planes3<const T> src, int sw, int sh, Planes3<T> dst, int dw, int dh, TapTable ht,
                             TapTable vt, int tile_h) {
  extern __shared__ float smem[];
  const int z = blockIdx.z;
  const int x0 = blockIdx.x * kTileW, y0 = blockIdx.y * tile_h;
  const int x1 = min(x0 + kTileW, dw), y1 = min(y0 + tile_h, dh);
  // Source window of the tile: first[] is non-decreasing, so it spans first[x0] ..
  // first[x1 - 1] + count (the host sized shared memory for the largest window).
  const int sx0 = ht.first[x0], ncols = ht.first[x1 - 1] + ht.count - sx0;
  const int sy0 = vt.first[y0], nrows = vt.first[y1 - 1] + vt.count - sy0;
  float* in = smem;                   // nrows x ncols
  float* mid = smem + nrows * ncols;  // nrows x kTileW
  for (int r = threadIdx.y; r < nrows; r += blockDim.y) {
    const T* row = src.row(z, min(max(sy0 + r, 0), sh - 1));
    for (int c = threadIdx.x; c < ncols; c += blockDim.x) in[r * ncols + c] = to_f(row[min(max(sx0 + c, 0), sw - 1)]);
  }
  __syncthreads();
  const int tw = x1 - x0;
  for (int r = threadIdx.y; r < nrows; r += blockDim.y)
    for (int xx = threadIdx.x; xx < tw; xx += blockDim.x) {
      const int x = x0 + xx;
      const float* w = ht.w + static_cast<std::size_t>(x) * ht.count;
      const float* p = in + r * ncols + (ht.first[x] - sx0);
      float acc = 0.f;
      for (int k = 0; k < ht.count; ++k) acc += w[k] * p[k];
      mid[r * kTileW + xx] = acc;
    }
  __syncthreads();
  for (int yy = threadIdx.y; yy < y1 - y0; yy += blockDim.y)
    for (int xx = threadIdx.x; xx < tw; xx += blockDim.x) {
      const int y = y0 + yy;
      const float* w = vt.w + static_cast<std::size_t>(y) * vt.count;
      const float* p = mid + (vt.first[y] - sy0) * kTileW + xx;
      float acc = 0.f;
      for (int k = 0; k < vt.count; ++k) {
        const float wk = w[k];
        if (wk == 0.f) continue;  // same skip as the CPU pass, for identical sums
        acc += wk * p[k * kTileW];
      }
      dst.row(z, y)[x0 + xx] = from_f<T>(acc);
    }
}

// Largest source extent of any tile of `tile` destination samples.
int max_window(const detail::Taps& t, int n, int tile) {
  int m = 0;
  for (int a = 0; a < n; a += tile) {
    const int b = std::min(a + tile, n) - 1;
    m = std::max(m, t.first[b] + t.count - t.first[a]);
  }
  return m;
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
  dst.row(z, y)[x] = from_f<T>(acc);
}

}  // namespace

struct ResizeCuda::Impl {
  int sw, sh, dw, dh;
  detail::Taps h, v;
  DeviceBuffer tables;  // h.first | v.first | h.weights | v.weights
  DeviceBuffer tmp;     // 3 planes of sh x dw floats, allocated on first two-pass use
  TapTable ht{}, vt{};
  int tile_h = 0;          // > 0: the tiled kernel with this tile height
  std::size_t shared = 0;  // its dynamic shared memory

  void ensure_tmp() {
    if (tmp.get() == nullptr) tmp = DeviceBuffer(static_cast<std::size_t>(3) * sh * dw * sizeof(float));
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
    const dim3 block(32, 8);
    if (tile_h > 0) {
      resize_tiled<T><<<dim3(div_up(dw, kTileW), div_up(dh, tile_h), planes), block, shared, to_cuda(stream)>>>(
          s, sw, sh, d, dw, dh, ht, vt, tile_h);
      cuda_check_launch("ResizeCuda tiled pass");
      return;
    }
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
  // Tallest tile whose source window and horizontal result fit in shared memory.
  const int cols = max_window(m.h, dst_width, kTileW);
  for (int th : {32, 16, 8, 4}) {
    const int rows = max_window(m.v, dst_height, th);
    const std::size_t bytes = static_cast<std::size_t>(rows) * (cols + kTileW) * sizeof(float);
    if (bytes <= kMaxShared) {
      m.tile_h = th;
      m.shared = bytes;
      break;
    }
  }
}

ResizeCuda::~ResizeCuda() = default;
bool ResizeCuda::tiled() const {
  return impl_->tile_h > 0;
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
