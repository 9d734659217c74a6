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
// The tile phases are in resize_tiled_tile.cuh (their per-thread bodies are __host__
// __device__, so they can be run on the host against the CPU twin when no GPU is at hand),
// the kernels and the tile planning in resize_tiled_kernels.cuh; this file holds the plan
// (ResizeCuda::Impl) and its runs. Periodic ratios take resize_periodic_cuda.cu's kernels.
#include "kernels/cuda_modules.h"
#include "kernels/frame_sampler.cuh"
#include "kernels/resize.h"
#include "kernels/resize_periodic_cuda.cuh"
#include "kernels/resize_taps.h"
#include "kernels/resize_tiled_kernels.cuh"
#include "kernels/to_rgb.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace upscaled::kernels {

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
      // The intermediate's pitch is cudaMallocPitch's: a periodic kernel runs for every ratio.
      if (!launch_periodic<float, T>(ptaps, planes3<const float>(rgb3.as_const()), planes3<T>(dst), 3, sw, sh, dw, dh,
                                     to_cuda(stream), /*intermediate=*/true))
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
std::size_t ResizeCuda::intermediate_bytes(ResizeRuns runs) const {
  const Impl& m = *impl_;
  const std::size_t two_pass = m.tmp.get() ? m.tmp.bytes() : std::size_t{3} * m.sh * m.dw * sizeof(float);
  if (runs == ResizeRuns::frames) {
    if (m.periodic && Impl::frame_via_rgb())
      return m.rgb.get() ? m.rgb.bytes()
                         : round_up(m.sw * static_cast<int>(sizeof(float)), 512) * std::size_t{3} * m.sh;
    return m.tiled[2].c.th > 0 ? 0 : two_pass;
  }
  // A periodic plan whose kernel cannot take the planes (x1.5 with pitches off 16 bytes)
  // falls back on the tiled kernel, else on two passes: counted as if it always might.
  return m.tiled[runs == ResizeRuns::half_planes ? 0 : 1].c.th > 0 ? 0 : two_pass;
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
