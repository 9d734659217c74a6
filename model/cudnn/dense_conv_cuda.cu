// run_dense_conv (contract in dense_conv.h): an implicit-GEMM 3x3 convolution on the tensor cores.
// This file holds the mma.sync kernel, which runs on every architecture, and the dispatch: on
// compute capability 9.0 the wgmma kernel (dense_conv_wgmma_cuda.cu) runs instead.
//
// A block of 4 warps owns an output tile of 16 columns by TH rows of one image; a warp owns WM
// rows of it (each row one m16 tile of the mma) and every output channel. The reduction runs
// over blocks of 32 input channels: for each, the tile's source window with its one-pixel border
// ((TH+2) x 18 pixels, 64 bytes each) and the block's weights for the 9 taps are copied into
// shared memory with cp.async (two stages, so the next block's copy overlaps this block's
// products); the 9 taps then read the same window at shifted rows, so the source is read from
// global memory once per tile instead of once per tap. Rows of 64 bytes are stored with their
// four 16-byte units permuted by (row / 2) % 4, which makes every ldmatrix of 8 consecutive rows
// free of bank conflicts. The epilogue adds bias, scales, adds the scaled residual, applies
// ReLU and stores channel pairs straight into the output slice.
#include "model/cudnn/dense_conv.h"
#include "model/cudnn/dense_conv_device.cuh"

#include "core/error.h"

#include <cuda_fp16.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace upscaled::model::cudnn {
namespace {

using namespace dense_conv_detail;

constexpr int kTileWidth = 16;  // output columns per tile: one m16 tile

// A block's shape: WARPS_M warps; a warp owns WM rows of the tile (each an m16 tile of the mma)
// and every output channel.
template <int COUT_, int WM_, int WARPS_M_, int KEEP_ = COUT_ / 8>
struct Config {
  static constexpr int COUT = COUT_, WM = WM_, WARPS_M = WARPS_M_;
  static constexpr int KEEP = KEEP_;  // channel pairs stored per n8 tile column: 6 of 8 for 48 outputs
  static constexpr int kThreads = WARPS_M * 32;
  static constexpr int TH = WARPS_M * WM;  // tile rows
  static constexpr int WW = kTileWidth + 2;
  static constexpr int kWindowPixels = (TH + 2) * WW;
  static constexpr int kStageBytes = kWindowPixels * 64 + 9 * COUT * 64;
  static constexpr int NT = COUT / 8;  // n8 tiles per warp
  static_assert(COUT % 16 == 0, "a warp's channels come in pairs of n8 tiles");
};

template <class C>
__global__ void __launch_bounds__(C::kThreads) dense_conv_kernel(DenseConvParams p) {
  constexpr int COUT = C::COUT, WM = C::WM, TH = C::TH, WW = C::WW, WP = C::kWindowPixels, NT = C::NT;
  constexpr int kThreads = C::kThreads;
  extern __shared__ __align__(128) unsigned char smem[];
  const int tiles_x = (p.w + kTileWidth - 1) / kTileWidth, tiles_y = (p.h + TH - 1) / TH;
  int b = static_cast<int>(blockIdx.x);
  const int x0 = (b % tiles_x) * kTileWidth;
  b /= tiles_x;
  const int y0 = (b % tiles_y) * TH;
  const int n = b / tiles_y;
  const int tid = static_cast<int>(threadIdx.x), lane = tid & 31, warp = tid >> 5;
  const int wm = warp;
  const int chunks = p.in_channels / kChunk;

  auto load = [&](int q, int stage) {
    const unsigned window = shared_address(smem + stage * C::kStageBytes);
    for (int i = tid; i < WP * 4; i += kThreads) {
      const int px = i >> 2, unit = i & 3;
      const int y = y0 - 1 + px / WW, x = x0 - 1 + px % WW;
      const bool inside = y >= 0 && y < p.h && x >= 0 && x < p.w;
      const __half* src =
          inside ? p.in + ((static_cast<std::int64_t>(n) * p.h + y) * p.w + x) * p.in_stride + q * kChunk + unit * 8
                 : p.in;
      copy16(window + swizzled(px, unit), src, inside);
    }
    const unsigned weights = window + WP * 64;
    const __half* wq = p.weights + static_cast<std::int64_t>(q) * 9 * COUT * kChunk;
    for (int i = tid; i < 9 * COUT * 4; i += kThreads) {
      const int row = i >> 2, unit = i & 3;
      copy16(weights + swizzled(row, unit), wq + row * kChunk + unit * 8, true);
    }
  };

  float acc[WM][NT][4];
#pragma unroll
  for (int i = 0; i < WM; ++i)
#pragma unroll
    for (int j = 0; j < NT; ++j)
#pragma unroll
      for (int k = 0; k < 4; ++k) acc[i][j][k] = 0.0f;

  load(0, 0);
  commit();
  for (int q = 0; q < chunks; ++q) {
    if (q + 1 < chunks) load(q + 1, (q + 1) & 1);
    commit();  // an empty group on the last block keeps the wait below uniform
    wait_all_but_one();
    __syncthreads();
    const unsigned window = shared_address(smem + (q & 1) * C::kStageBytes);
    const unsigned weights = window + WP * 64;
#pragma unroll
    for (int tap = 0; tap < 9; ++tap) {
      const int ky = tap / 3, kx = tap % 3;
#pragma unroll
      for (int kk = 0; kk < 2; ++kk) {
        // A: 16 pixels x 16 channels per row of the warp; lanes 0-15 address the pixels'
        // first 8 channels, 16-31 the next 8 (the fragment order of m16n8k16).
        unsigned a[WM][4];
#pragma unroll
        for (int i = 0; i < WM; ++i) {
          const int px = (wm * WM + i + ky) * WW + (lane & 15) + kx;
          load_matrices(window + swizzled(px, kk * 2 + (lane >> 4)), a[i]);
        }
        // B: two n8 tiles of output channels per load (lanes 0-7 / 8-15 the first tile's two
        // channel halves, 16-31 the second's).
#pragma unroll
        for (int j = 0; j < NT / 2; ++j) {
          const int row = tap * COUT + 16 * j + (lane & 7) + ((lane >> 4) & 1) * 8;
          unsigned bm[4];
          load_matrices(weights + swizzled(row, kk * 2 + ((lane >> 3) & 1)), bm);
#pragma unroll
          for (int i = 0; i < WM; ++i) {
            mma(acc[i][2 * j], a[i], bm[0], bm[1]);
            mma(acc[i][2 * j + 1], a[i], bm[2], bm[3]);
          }
        }
      }
    }
    __syncthreads();  // the next iteration's copy overwrites the stage just read
  }

  const int g = lane >> 2, pair = 2 * (lane & 3);
  std::int64_t pixel[WM][2];
#pragma unroll
  for (int i = 0; i < WM; ++i) {
    const int y = y0 + wm * WM + i;
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int x = x0 + g + half * 8;
      pixel[i][half] = y < p.h && x < p.w ? (static_cast<std::int64_t>(n) * p.h + y) * p.w + x : -1;
    }
  }
  store_outputs<WM, NT, C::KEEP>(p, pixel, pair, [&](int i, int h, int j, int c) { return acc[i][j][2 * h + c]; });
}

// The packed order (dense_conv.h): packed element i is OHWI element packed_source(i), for the
// host and the device packing alike.
__host__ __device__ inline std::int64_t packed_source(std::int64_t i, int cout, int cin) {
  const int ci = static_cast<int>(i % kChunk);
  std::int64_t rest = i / kChunk;
  const int co = static_cast<int>(rest % cout);
  rest /= cout;
  const int tap = static_cast<int>(rest % 9);
  const int q = static_cast<int>(rest / 9);
  return (static_cast<std::int64_t>(co) * 9 + tap) * cin + q * kChunk + ci;
}

// pack_dense_conv_weights on the device: one thread per packed element.
__global__ void pack_weights_kernel(const __half* ohwi, __half* packed, int cout, int cin) {
  const std::int64_t total = static_cast<std::int64_t>(cout) * 9 * cin;
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < total) packed[i] = ohwi[packed_source(i, cout, cin)];
}

bool aligned(const void* ptr, std::uintptr_t bytes) {
  return reinterpret_cast<std::uintptr_t>(ptr) % bytes == 0;
}

// The shapes in use (measured on the H200, docs/network-speed.md): 4 warps of 4 rows for 32
// outputs, of 2 rows for 64; 8-warp blocks and window rows reused across taps were no faster.
using Growth = Config<32, 4, 4>;
using Wide = Config<64, 2, 4>;
using Narrow = Config<64, 2, 4, 6>;  // 48 outputs as 64

// A per-device answer kept for the process (CUDA functions' attributes and a device's
// architecture do not change while it runs): bit d for device d < 64; others ask every time.
class PerDevice {
 public:
  template <class Ask>
  cudaError_t get(Ask ask, bool* value = nullptr) {
    int device = 0;
    cudaError_t err = cudaGetDevice(&device);
    if (err != cudaSuccess) return err;
    const std::uint64_t bit = device >= 0 && device < 64 ? std::uint64_t{1} << device : 0;
    if (bit && (known_.load(std::memory_order_acquire) & bit)) {
      if (value) *value = (value_.load(std::memory_order_relaxed) & bit) != 0;
      return cudaSuccess;
    }
    bool v = false;
    err = ask(device, v);
    if (err != cudaSuccess) return err;
    if (v) value_.fetch_or(bit, std::memory_order_relaxed);
    known_.fetch_or(bit, std::memory_order_release);
    if (value) *value = v;
    return cudaSuccess;
  }

 private:
  std::atomic<std::uint64_t> known_{0}, value_{0};
};

// Sets the kernel's shared-memory allowance on the current device once per process; this also
// loads the kernel, which CUDA otherwise loads lazily at its first launch.
template <class C>
cudaError_t prepare() {
  static PerDevice prepared;
  return prepared.get([](int, bool&) {
    return cudaFuncSetAttribute(dense_conv_kernel<C>, cudaFuncAttributeMaxDynamicSharedMemorySize, 2 * C::kStageBytes);
  });
}

template <class C>
void launch(const DenseConvParams& p, cudaStream_t stream) {
  constexpr int bytes = 2 * C::kStageBytes;
  cudaError_t err = prepare<C>();
  if (err == cudaSuccess) {
    const std::int64_t blocks =
        static_cast<std::int64_t>(p.n) * ((p.h + C::TH - 1) / C::TH) * ((p.w + kTileWidth - 1) / kTileWidth);
    dense_conv_kernel<C><<<static_cast<unsigned>(blocks), C::kThreads, bytes, stream>>>(p);
    err = cudaGetLastError();
  }
  if (err != cudaSuccess)
    throw Error(ErrorCode::device, std::string("CUDA dense convolution launch: ") + cudaGetErrorString(err));
}

#ifdef UPSCALED_DENSE_CONV_WGMMA
void check_wgmma(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw Error(ErrorCode::device,
                std::string("CUDA dense convolution (wgmma) ") + what + ": " + cudaGetErrorString(err));
}

// The wgmma kernel is built for sm_90a, which runs on compute capability 9.0 only.
bool wgmma_device() {
  static PerDevice hopper;
  bool yes = false;
  check_wgmma(hopper.get(
                  [](int device, bool& v) {
                    int major = 0, minor = 0;
                    cudaError_t err = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
                    if (err == cudaSuccess)
                      err = cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device);
                    v = major == 9 && minor == 0;
                    return err;
                  },
                  &yes),
              "device query");
  return yes;
}

// As prepare<C>, for the wgmma kernel.
cudaError_t prepare_wgmma() {
  static PerDevice prepared;
  return prepared.get([](int, bool&) { return prepare_wgmma_kernel(); });
}

// UPSCALED_DENSE_CONV_STAGED=0: the wgmma kernel stores straight from its registers even where
// the output allows the staged epilogue (a comparison for docs/network-speed.md).
bool staged_turned_off() {
  static const bool off = [] {
    const char* v = std::getenv("UPSCALED_DENSE_CONV_STAGED");
    return v && std::string(v) == "0";
  }();
  return off;
}

// UPSCALED_DENSE_CONV_OVERLAP=1: the programmatic launch (WgmmaLaunch::overlap), an experiment
// that measured within noise; off, each launch waits for the previous kernel's end as usual.
// UPSCALED_DENSE_CONV_A_SHARED=0|1|2: the A operand from shared memory for no kernel, the
// 64-output kernel (the default) or both (WgmmaLaunch). Comparisons for docs/network-speed.md.
int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

void launch_wgmma(const DenseConvParams& p, int out_channels, cudaStream_t stream) {
  check_wgmma(prepare_wgmma(), "set-up");
  static const bool overlap = env_int("UPSCALED_DENSE_CONV_OVERLAP", 0) != 0;
  static const int a_shared = env_int("UPSCALED_DENSE_CONV_A_SHARED", 1);
  WgmmaLaunch how;
  how.staged = aligned(p.out, 16) && p.out_stride % 8 == 0 &&
               (!p.out2 || (aligned(p.out2, 16) && p.out2_stride % 8 == 0)) && !staged_turned_off();
  how.overlap = overlap;
  how.a_shared_32 = a_shared >= 2;
  how.a_shared_64 = a_shared >= 1;
  static const int growth_rows = env_int("UPSCALED_DENSE_CONV_GROWTH_ROWS", 6);
  how.growth_rows = growth_rows;
  launch_wgmma_kernel(p, out_channels, how, stream);
  check_wgmma(cudaGetLastError(), "launch");
}
#endif

bool wgmma_turned_off() {
  static const bool off = [] {
    const char* v = std::getenv("UPSCALED_DENSE_CONV_WGMMA");
    return v && std::string(v) == "0";
  }();
  return off;
}

}  // namespace

void run_dense_conv(const DenseConvArgs& a, cudaStream_t stream) {
  const bool in_ok = a.in && a.in_channels > 0 && a.in_channels % kChunk == 0 && a.in_stride >= a.in_channels &&
                     a.in_stride % 8 == 0 && aligned(a.in, 16);
  const bool out_ok = a.out && (a.out_channels == 32 || a.out_channels == 48 || a.out_channels == 64) &&
                      a.out_stride >= a.out_channels && a.out_stride % 2 == 0 && aligned(a.out, 4);
  const bool z_ok = (!a.z || (a.z_stride >= a.out_channels && a.z_stride % 2 == 0 && aligned(a.z, 4))) &&
                    (!a.z2 || (a.z2_stride >= a.out_channels && a.z2_stride % 2 == 0 && aligned(a.z2, 4))) &&
                    (!a.out2 || (a.out2_stride >= a.out_channels && a.out2_stride % 2 == 0 && aligned(a.out2, 4)));
  const bool rest_ok = a.weights && aligned(a.weights, 16) && (!a.bias || aligned(a.bias, 4)) && a.n > 0 && a.h > 0 &&
                       a.w > 0 && static_cast<std::int64_t>(a.n) * a.h * a.w * a.in_stride < (std::int64_t{1} << 40) &&
                       // the wgmma kernel's copy offsets within a tile's window rows are 32-bit
                       static_cast<std::int64_t>(a.w) * a.in_stride * 8 < (std::int64_t{1} << 32);
  if (!in_ok || !out_ok || !z_ok || !rest_ok)
    throw std::invalid_argument(
        "run_dense_conv: unsupported view (input channels a multiple of 32 with stride a "
        "multiple of 8 and 16-byte base, 32, 48 or 64 output channels, even strides, rows under 2^29 values)");
  DenseConvParams p{static_cast<const __half*>(a.in),
                    static_cast<__half*>(a.out),
                    static_cast<const __half*>(a.weights),
                    static_cast<const __half*>(a.bias),
                    static_cast<const __half*>(a.z),
                    a.in_stride,
                    a.in_channels,
                    a.out_stride,
                    a.z_stride,
                    a.alpha,
                    a.beta,
                    a.relu ? 1 : 0,
                    a.n,
                    a.h,
                    a.w,
                    static_cast<const __half*>(a.z2),
                    a.z2_stride,
                    a.beta2,
                    static_cast<__half*>(a.out2),
                    a.out2_stride};
  const bool wgmma = a.kernel == DenseConvKernel::wgmma ||
                     (a.kernel == DenseConvKernel::automatic && dense_conv_uses_wgmma(a.out_channels));
  if (wgmma) {
    if (!dense_conv_wgmma_available())
      throw std::invalid_argument(
          "run_dense_conv: the wgmma kernel needs a compute capability 9.0 device and a build with sm_90a");
#ifdef UPSCALED_DENSE_CONV_WGMMA
    launch_wgmma(p, a.out_channels, stream);
#endif
  } else if (a.out_channels == 32) {
    launch<Growth>(p, stream);
  } else if (a.out_channels == 48) {
    launch<Narrow>(p, stream);
  } else {
    launch<Wide>(p, stream);
  }
}

bool dense_conv_wgmma_available() {
#ifdef UPSCALED_DENSE_CONV_WGMMA
  return wgmma_device();
#else
  return false;
#endif
}

bool dense_conv_uses_wgmma(int out_channels) {
  return (out_channels == 32 || out_channels == 48 || out_channels == 64) && !wgmma_turned_off() &&
         dense_conv_wgmma_available();
}

void load_dense_conv() {
  cudaError_t err = prepare<Growth>();
  if (err == cudaSuccess) err = prepare<Wide>();
  if (err == cudaSuccess) err = prepare<Narrow>();
  if (err != cudaSuccess)
    throw Error(ErrorCode::device, std::string("CUDA dense convolution load: ") + cudaGetErrorString(err));
#ifdef UPSCALED_DENSE_CONV_WGMMA
  if (dense_conv_wgmma_available()) check_wgmma(prepare_wgmma(), "load");
#endif
}

void pack_dense_conv_weights_cuda(const void* ohwi, void* packed, int out_channels, int in_channels,
                                  cudaStream_t stream) {
  if (!ohwi || !packed || in_channels <= 0 || in_channels % kChunk != 0 || out_channels <= 0)
    throw std::invalid_argument("pack_dense_conv_weights_cuda: input channels must be a multiple of 32");
  const std::int64_t total = static_cast<std::int64_t>(out_channels) * 9 * in_channels;
  pack_weights_kernel<<<static_cast<unsigned>((total + 255) / 256), 256, 0, stream>>>(
      static_cast<const __half*>(ohwi), static_cast<__half*>(packed), out_channels, in_channels);
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw Error(ErrorCode::device, std::string("CUDA dense convolution weight packing: ") + cudaGetErrorString(err));
}

std::vector<std::uint16_t> pack_dense_conv_weights(const std::vector<std::uint16_t>& ohwi, int out_channels,
                                                   int in_channels) {
  if (in_channels <= 0 || in_channels % kChunk != 0 || out_channels <= 0 ||
      ohwi.size() != static_cast<std::size_t>(out_channels) * 9 * in_channels)
    throw std::invalid_argument("pack_dense_conv_weights: expected OHWI weights with input channels a multiple of 32");
  std::vector<std::uint16_t> packed(ohwi.size());
  for (std::size_t i = 0; i < packed.size(); ++i)
    packed[i] = ohwi[static_cast<std::size_t>(packed_source(static_cast<std::int64_t>(i), out_channels, in_channels))];
  return packed;
}

}  // namespace upscaled::model::cudnn
