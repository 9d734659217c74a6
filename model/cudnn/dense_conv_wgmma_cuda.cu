// The own 3x3 convolution on Hopper's warpgroup MMA (wgmma), built for
// sm_90a only (contract in dense_conv.h; run_dense_conv picks it on compute capability 9.0).
//
// Why another kernel: the mma.sync kernel (dense_conv_cuda.cu) issues one instruction per
// 16x8x16 product and waits on each; with 32 output channels it reached 250-310 TFLOP/s of the
// H200's 989, latency-bound at 2 blocks per SM. wgmma runs a 64x32x16 product per instruction,
// asynchronously, with B (the weights) read by the tensor cores straight from shared memory.
// Measured (docs/network-speed.md): 2-6% faster per growth convolution, 17% for 64 outputs,
// about 2% on the network at first. The profile then showed warps waiting mostly on integer
// arithmetic and loads, not on the products: with each copy's source and destination worked out
// once per tile instead of once per block of channels (and the epilogue's loads ahead of its
// stores), each block of channels costs 0.029 ms instead of 0.041 at 1280x720 (a line fitted to
// the four growth convolutions' times; 12% on the network; nineteenth session).
//
// A block (one warpgroup, 4 warps) owns ROWS output rows of 64 columns of one image (6 rows for
// 32 output channels, 2 for 64). The reduction runs over blocks of 32 input channels; for each,
// the source window (ROWS + 2 rows x 66 pixels, 64 bytes each) and the 9 taps' weights (COUT
// rows of 64 bytes per tap) are copied into shared memory with cp.async, two stages.
// 32 outputs (A_SHARED false): a warp's A operand, its 16 pixels x 16 channels of one window row,
// is loaded with ldmatrix into registers and serves every output row that reads that window row
// (ky = 0, 1, 2): per tap column kx and channel half kk, ROWS + 2 window rows are loaded for
// 3 x ROWS wgmmas. A registers are double-buffered across those groups, so the next group's loads
// overlap the wgmmas in flight (a third buffer, two groups in flight, measured even; twentieth
// session). 6 rows rather than 4 (twenty-first session): a third fewer window rows and weights
// copied per output row, 255 registers and still two blocks per SM; growth convolutions 3-4%
// faster.
// 64 outputs (A_SHARED true): the tensor cores read A straight from the window by descriptor,
// every product of a block of channels in one wgmma group: no ldmatrix and no fence waits on it
// (fusion 192->64 0.40 -> 0.35 ms at 1280x720). For 32 outputs the three reads of each window
// row cost more shared-memory bandwidth than the loads they save (3-8% slower).
// With UPSCALED_DENSE_CONV_OVERLAP=1 the launch allows programmatic stream serialization: a block
// copies its first weights before griddepcontrol.wait, during the previous kernel's last blocks
// (measured within noise, so off by default; without it the two instructions do nothing).
// The epilogue's arithmetic is the mma.sync kernel's (epilogue_pairs in dense_conv_device.cuh:
// bias, alpha, up to two scaled residuals, ReLU). Where the outputs allow 16-byte stores, each
// warp then stages its pixels through the idle stages with stmatrix and stores whole 16-byte
// units per pixel (store_staged): a pixel's 64 or 128 bytes leave in whole sectors instead of
// 4-byte pairs over 8 pixels (growth convolutions 3-4% and the fusion convolution 5% faster
// at 1280x720; twentieth session). Otherwise the pairs are stored from the registers.
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define UPSCALED_WGMMA_BODY 1
#endif
#include "model/cudnn/dense_conv_device.cuh"
#include "model/cudnn/wgmma_ptx.cuh"

namespace upscaled::model::cudnn::dense_conv_detail {
namespace {

constexpr int kTileW = 64;  // output columns per tile: one wgmma's M
constexpr int kWinW = kTileW + 2;
constexpr int kThreads = 128;

// A tile of ROWS output rows and COUT output channels (32: the growth convolutions, 6 rows;
// 64: the fusion convolutions, 2 rows), sized so that two blocks fit in an SM's shared memory.
template <int COUT_, int ROWS_>
struct Shape {
  static constexpr int COUT = COUT_, ROWS = ROWS_;
  static constexpr int kWinRows = ROWS + 2, kWinPixels = kWinRows * kWinW;
  static constexpr int kWinBytes =
      (kWinPixels + 7) / 8 * 8 * 64;  // rounded to 512: the weights' swizzle starts aligned
  static constexpr int kStageBytes = kWinBytes + 9 * COUT * 64;
  static constexpr int kSmemBytes = 2 * kStageBytes + 1024;  // room to align the base to 1024 bytes
  static constexpr int kAcc = COUT / 2;                      // accumulators per thread and row
  static_assert(kStageBytes % 512 == 0, "every stage starts where the 64-byte swizzle pattern does");
};
using Growth = Shape<32, 6>;
using Growth4 = Shape<32, 4>;  // the tile before, UPSCALED_DENSE_CONV_GROWTH_ROWS=4
using Wide = Shape<64, 2>;

#ifdef UPSCALED_WGMMA_BODY
// Byte offset of 16-byte unit `unit` of staged pixel q (UNITS units of 16 bytes per pixel), the
// units permuted by the pixel so that stmatrix's 8 rows and the read-back's 8 lanes of a phase
// fall in distinct banks.
template <int UNITS>
__device__ __forceinline__ unsigned staged(int q, int unit) {
  const int perm = UNITS == 4 ? (q >> 1) & 3 : q & 7;
  return static_cast<unsigned>(q * UNITS * 16 + ((unit ^ perm) << 4));
}

// The staged epilogue's stores: a warp's ROWS x 16 pixels, COUT channels each, as half2 pairs in
// the accumulator layout (packed[i][h][j]: pixel g + 8 h of row i, channels 8 j + pair, + 1),
// written to the warp's own region of shared memory at `region` with stmatrix, read back as 16-byte
// units and stored so that a warp's store covers whole 32-byte sectors of consecutive pixels
// (the direct epilogue stores 4 bytes per lane over 8 pixels: half a sector each).
template <int ROWS, int COUT, int KEEP>
__device__ __forceinline__ void store_staged(const DenseConvParams& p, unsigned region,
                                             const unsigned (&packed)[ROWS][2][COUT / 8], int n, int y0, int x_warp,
                                             int lane) {
  constexpr int kUnits = COUT / 8, kPerStore = 32 / kUnits, kStores = 16 / kPerStore;
  {
    const int m = lane >> 3, q = (lane & 7) + 8 * (m & 1);
#pragma unroll
    for (int i = 0; i < ROWS; ++i)
#pragma unroll
      for (int t = 0; t < kUnits / 2; ++t)
        store_matrices(region + staged<kUnits>(i * 16 + q, 2 * t + (m >> 1)), packed[i][0][2 * t], packed[i][1][2 * t],
                       packed[i][0][2 * t + 1], packed[i][1][2 * t + 1]);
  }
  __syncwarp();
  const int unit = lane % kUnits, q0 = lane / kUnits;
  uint4 v[ROWS][kStores];
#pragma unroll
  for (int i = 0; i < ROWS; ++i)
#pragma unroll
    for (int s = 0; s < kStores; ++s)
      v[i][s] = load_shared16(region + staged<kUnits>(i * 16 + s * kPerStore + q0, unit));
#pragma unroll
  for (int i = 0; i < ROWS; ++i)
#pragma unroll
    for (int s = 0; s < kStores; ++s) {
      const int x = x_warp + s * kPerStore + q0, y = y0 + i;
      if (x >= p.w || y >= p.h || unit >= KEEP) continue;
      const std::int64_t pixel = (static_cast<std::int64_t>(n) * p.h + y) * p.w + x;
      *reinterpret_cast<uint4*>(p.out + pixel * p.out_stride + unit * 8) = v[i][s];
      if (p.out2) *reinterpret_cast<uint4*>(p.out2 + pixel * p.out2_stride + unit * 8) = v[i][s];
    }
}
#endif

// KEEP: the 16-byte units of a pixel stored (COUT / 8, or 6 of 8 for 48 outputs).
template <class S, bool STAGED, bool A_SHARED, int KEEP>
__global__ void __launch_bounds__(kThreads) dense_conv_wgmma_kernel(DenseConvParams p) {
#ifdef UPSCALED_WGMMA_BODY
  constexpr int kRows = S::ROWS, kCout = S::COUT, kWinRows = S::kWinRows, kWinPixels = S::kWinPixels;
  constexpr int kWinBytes = S::kWinBytes, kStageBytes = S::kStageBytes, kAcc = S::kAcc;
  extern __shared__ __align__(1024) unsigned char smem[];
  const unsigned base = (shared_address(smem) + 1023u) & ~1023u;
  const int tiles_x = (p.w + kTileW - 1) / kTileW, tiles_y = (p.h + kRows - 1) / kRows;
  int b = static_cast<int>(blockIdx.x);
  const int x0 = (b % tiles_x) * kTileW;
  b /= tiles_x;
  const int y0 = (b % tiles_y) * kRows;
  const int n = b / tiles_y;
  const int tid = static_cast<int>(threadIdx.x), lane = tid & 31, warp = tid >> 5;
  const int chunks = p.in_channels / kChunk;

  // A thread copies the same window pixels and weight rows for every block of channels, only the
  // channel offset changes, so the copies' offsets are worked out once per tile: thread t copies
  // 16-byte unit t % 4 of rows t / 4 + 32 k, whose swizzled place is the same in every 32 rows.
  constexpr int kWinCopies = (kWinPixels * 4 + kThreads - 1) / kThreads;
  constexpr int kWeightCopies = 9 * kCout * 4 / kThreads;
  static_assert(9 * kCout * 4 % kThreads == 0, "every thread copies as many weight rows");
  const int first_row = tid >> 2, unit = tid & 3;
  const unsigned dst0 = swizzled(first_row, unit);
  const int y_top = y0 > 0 ? y0 - 1 : 0;  // the window's first row inside the image
  const __half* tile_in = p.in + (static_cast<std::int64_t>(n) * p.h + y_top) * p.w * p.in_stride + unit * 8;
  unsigned src_off[kWinCopies];  // element offsets from tile_in; ~0u: padding, copied as zeros
#pragma unroll
  for (int k = 0; k < kWinCopies; ++k) {
    const int px = first_row + k * (kThreads / 4);
    const int wy = px / kWinW, wx = px - wy * kWinW;
    const int y = y0 - 1 + wy, x = x0 - 1 + wx;
    const bool inside = y >= 0 && y < p.h && x >= 0 && x < p.w;
    src_off[k] = inside ? static_cast<unsigned>((y - y_top) * p.w + x) * static_cast<unsigned>(p.in_stride) : ~0u;
  }
  auto load_window = [&](int q, int stage) {
    const unsigned window = base + static_cast<unsigned>(stage * kStageBytes);
    const __half* in_q = tile_in + q * kChunk;
#pragma unroll
    for (int k = 0; k < kWinCopies; ++k) {
      if (k == kWinCopies - 1 && first_row + k * (kThreads / 4) >= kWinPixels) break;
      const bool inside = src_off[k] != ~0u;
      copy16(window + dst0 + static_cast<unsigned>(k * kThreads * 16), inside ? in_q + src_off[k] : p.in, inside);
    }
  };
  auto load_weights = [&](int q, int stage) {
    const unsigned weights = base + static_cast<unsigned>(stage * kStageBytes) + kWinBytes + dst0;
    const __half* wq = p.weights + static_cast<std::int64_t>(q) * 9 * kCout * kChunk + tid * 8;
#pragma unroll
    for (int k = 0; k < kWeightCopies; ++k)
      copy16(weights + static_cast<unsigned>(k * kThreads * 16), wq + k * kThreads * 8, true);
  };

  float acc[kRows][kAcc];
#pragma unroll
  for (int i = 0; i < kRows; ++i)
#pragma unroll
    for (int k = 0; k < kAcc; ++k) acc[i][k] = 0.0f;

  // The weights are the model's, written before the forward: their first copy may overlap the
  // previous kernel's last blocks. Everything else this kernel reads or writes waits for it.
  load_weights(0, 0);
  wait_for_previous_grid();
  let_next_grid_start();
  load_window(0, 0);
  commit();
  for (int q = 0; q < chunks; ++q) {
    if (q + 1 < chunks) {
      load_window(q + 1, (q + 1) & 1);
      load_weights(q + 1, (q + 1) & 1);
    }
    commit();  // an empty group on the last block keeps the wait below uniform
    wait_all_but_one();
    // cp.async wrote through the generic proxy; wgmma reads through the async proxy.
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    __syncthreads();
    const unsigned window = base + static_cast<unsigned>((q & 1) * kStageBytes);
    const unsigned weights = window + kWinBytes;
    if constexpr (A_SHARED) {
      // Every product of the block of channels in one group: A straight from the window.
      wgmma_fence();
#pragma unroll
      for (int g = 0; g < 6; ++g) {
        const int kx = g >> 1, kk = g & 1;
#pragma unroll
        for (int i = 0; i < kRows; ++i)
#pragma unroll
          for (int ky = 0; ky < 3; ++ky)
            wgmma_k16_ss(acc[i],
                         window_descriptor(window + static_cast<unsigned>(((i + ky) * kWinW + kx) * 64 + kk * 32)),
                         weight_descriptor(weights + static_cast<unsigned>((ky * 3 + kx) * kCout * 64 + kk * 32)));
      }
      wgmma_commit();
    } else {
      unsigned a[2][kWinRows][4];
#pragma unroll
      for (int g = 0; g < 6; ++g) {
        const int kx = g >> 1, kk = g & 1;
        if (g >= 2) wgmma_wait<1>();  // group g - 2, the last reader of this A buffer, is done
#pragma unroll
        for (int r = 0; r < kWinRows; ++r) {
          const int px = r * kWinW + warp * 16 + (lane & 15) + kx;
          load_matrices(window + swizzled(px, kk * 2 + (lane >> 4)), a[g & 1][r]);
        }
        wgmma_fence();
#pragma unroll
        for (int i = 0; i < kRows; ++i)
#pragma unroll
          for (int ky = 0; ky < 3; ++ky)
            wgmma_k16(acc[i], a[g & 1][i + ky],
                      weight_descriptor(weights + static_cast<unsigned>((ky * 3 + kx) * kCout * 64 + kk * 32)));
        wgmma_commit();
      }
    }
    wgmma_wait<0>();
    __syncthreads();  // the next iteration's copy overwrites the stage just read
  }
#pragma unroll
  for (int i = 0; i < kRows; ++i)
#pragma unroll
    for (int k = 0; k < kAcc; ++k) pin(acc[i][k]);

  const int g = lane >> 2, pair = 2 * (lane & 3);
  std::int64_t pixel[kRows][2];
#pragma unroll
  for (int i = 0; i < kRows; ++i) {
    const int y = y0 + i;
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int x = x0 + warp * 16 + g + half * 8;
      pixel[i][half] = y < p.h && x < p.w ? (static_cast<std::int64_t>(n) * p.h + y) * p.w + x : -1;
    }
  }
  auto value = [&](int i, int h, int j, int c) { return acc[i][4 * j + 2 * h + c]; };
  if constexpr (STAGED) {
    unsigned packed[kRows][2][kCout / 8];
    epilogue_pairs<kRows, kCout / 8, KEEP>(p, pixel, pair, value, [&](int i, int h, int j, __half2 v) {
      packed[i][h][j] = *reinterpret_cast<unsigned*>(&v);
    });
    // Every warp has left the stages (the loop's last barrier); each takes its own region.
    constexpr unsigned kRegion = kRows * 16 * kCout * 2;
    static_assert(4 * kRegion <= 2 * kStageBytes, "the staged outputs fit in the stages");
    store_staged<kRows, kCout, KEEP>(p, base + warp * kRegion, packed, n, y0, x0 + warp * 16, lane);
  } else {
    store_outputs<kRows, kCout / 8, KEEP>(p, pixel, pair, value);
  }
#else
  (void)p;
#endif
}

}  // namespace

template <class S, bool STAGED, int KEEP>
cudaError_t allow_shared_variants(cudaError_t err) {
  for (auto kernel : {dense_conv_wgmma_kernel<S, STAGED, false, KEEP>, dense_conv_wgmma_kernel<S, STAGED, true, KEEP>})
    if (err == cudaSuccess)
      err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, S::kSmemBytes);
  return err;
}

template <class S, int KEEP = S::COUT / 8>
cudaError_t allow_shared(cudaError_t err) {
  return allow_shared_variants<S, true, KEEP>(allow_shared_variants<S, false, KEEP>(err));
}

cudaError_t prepare_wgmma_kernel() {
  return allow_shared<Wide, 6>(allow_shared<Wide>(allow_shared<Growth4>(allow_shared<Growth>(cudaSuccess))));
}

// With `overlap`, the launch lets this kernel's blocks start before the previous kernel in the
// stream ends (programmatic stream serialization): they copy their first weights, then wait
// (griddepcontrol.wait) for that kernel's writes.
template <class S, bool STAGED, bool A_SHARED, int KEEP>
void launch(const DenseConvParams& p, bool overlap, cudaStream_t stream) {
  const std::int64_t blocks =
      static_cast<std::int64_t>(p.n) * ((p.h + S::ROWS - 1) / S::ROWS) * ((p.w + kTileW - 1) / kTileW);
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(static_cast<unsigned>(blocks));
  config.blockDim = dim3(kThreads);
  config.dynamicSmemBytes = S::kSmemBytes;
  config.stream = stream;
  cudaLaunchAttribute attribute[1];
  attribute[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute[0].val.programmaticStreamSerializationAllowed = 1;
  config.attrs = overlap ? attribute : nullptr;
  config.numAttrs = overlap ? 1 : 0;
  // The error, if any, is left for the caller's cudaGetLastError.
  (void)cudaLaunchKernelEx(&config, dense_conv_wgmma_kernel<S, STAGED, A_SHARED, KEEP>, p);
}

template <class S, int KEEP = S::COUT / 8>
void launch(const DenseConvParams& p, const WgmmaLaunch& how, bool a_shared, cudaStream_t stream) {
  if (how.staged)
    a_shared ? launch<S, true, true, KEEP>(p, how.overlap, stream)
             : launch<S, true, false, KEEP>(p, how.overlap, stream);
  else
    a_shared ? launch<S, false, true, KEEP>(p, how.overlap, stream)
             : launch<S, false, false, KEEP>(p, how.overlap, stream);
}

void launch_wgmma_kernel(const DenseConvParams& p, int out_channels, const WgmmaLaunch& how, cudaStream_t stream) {
  if (out_channels == 32 && how.growth_rows == 4)
    launch<Growth4>(p, how, how.a_shared_32, stream);
  else if (out_channels == 32)
    launch<Growth>(p, how, how.a_shared_32, stream);
  else if (out_channels == 48)
    launch<Wide, 6>(p, how, how.a_shared_64, stream);  // 48 outputs as 64, 6 of 8 units stored
  else
    launch<Wide>(p, how, how.a_shared_64, stream);
}

}  // namespace upscaled::model::cudnn::dense_conv_detail
