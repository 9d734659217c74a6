// The own 3x3 convolution on Hopper's warpgroup MMA (wgmma), built for
// sm_90a only (contract in dense_conv.h; run_dense_conv picks it on compute capability 9.0).
//
// Why another kernel: the mma.sync kernel (dense_conv_cuda.cu) issues one instruction per
// 16x8x16 product and waits on each; with 32 output channels it reached 250-310 TFLOP/s of the
// H200's 989, latency-bound at 2 blocks per SM. wgmma runs a 64x32x16 product per instruction,
// asynchronously, with B (the weights) read by the tensor cores straight from shared memory.
// Measured (docs/network-speed.md): 2-6% faster per growth convolution, 17% for 64 outputs,
// about 2% on the network; the per-block copy and drain, not the instructions, now bound it.
//
// A block (one warpgroup, 4 warps) owns ROWS output rows of 64 columns of one image (4 rows for
// 32 output channels, 2 for 64). The reduction runs over blocks of 32 input channels; for each,
// the source window (ROWS + 2 rows x 66 pixels, 64 bytes each) and the 9 taps' weights (COUT
// rows of 64 bytes per tap) are copied into shared memory with cp.async, two stages. A warp's A
// operand, its 16 pixels x 16 channels of one window row, is loaded with ldmatrix into registers
// and serves every output row that reads that window row (ky = 0, 1, 2): per tap column kx and
// channel half kk, ROWS + 2 window rows are loaded for 3 x ROWS wgmmas. A registers are
// double-buffered across those groups, so the next group's loads overlap the wgmmas in flight.
// The epilogue is the mma.sync kernel's (store_pair in dense_conv_device.cuh): bias, alpha,
// scaled residual, ReLU, channel pairs stored into the output slice.
#include "model/cudnn/dense_conv_device.cuh"
#include "model/cudnn/wgmma.cuh"

namespace upscaled::model::cudnn::dense_conv_detail {
namespace {

constexpr int kTileW = 64;  // output columns per tile: one wgmma's M
constexpr int kWinW = kTileW + 2;
constexpr int kThreads = 128;

// A tile of ROWS output rows and COUT output channels (32: the growth convolutions, 4 rows;
// 64: the fusion convolutions, 2 rows, so that two blocks still fit in an SM's shared memory).
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
using Growth = Shape<32, 4>;
using Wide = Shape<64, 2>;

// CHUNKS > 0 (the input's blocks of 32 channels, known at compile time): the products of one
// block of channels stay in flight while the next block's begin (its copy is issued once the
// previous block's products are done) instead of draining at the end of every block. The loop
// over blocks is then unrolled: ptxas serialises every wgmma of a loop whose products are in
// flight across its back edge (C7513).
template <class S, int CHUNKS>
__global__ void __launch_bounds__(kThreads) dense_conv_wgmma_kernel(DenseConvParams p) {
#ifdef UPSCALED_WGMMA_BODY
  constexpr bool FLOW = CHUNKS > 0;
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
  const int chunks = FLOW ? CHUNKS : p.in_channels / kChunk;

  auto load = [&](int q, int stage) {
    const unsigned window = base + static_cast<unsigned>(stage * kStageBytes);
    for (int i = tid; i < kWinPixels * 4; i += kThreads) {
      const int px = i >> 2, unit = i & 3;
      const int wy = px / kWinW, wx = px - wy * kWinW;
      const int y = y0 - 1 + wy, x = x0 - 1 + wx;
      const bool inside = y >= 0 && y < p.h && x >= 0 && x < p.w;
      const __half* src =
          inside ? p.in + ((static_cast<std::int64_t>(n) * p.h + y) * p.w + x) * p.in_stride + q * kChunk + unit * 8
                 : p.in;
      copy16(window + swizzled(px, unit), src, inside);
    }
    const unsigned weights = window + kWinBytes;
    const __half* wq = p.weights + static_cast<std::int64_t>(q) * 9 * kCout * kChunk;
    for (int i = tid; i < 9 * kCout * 4; i += kThreads) {
      const int row = i >> 2, unit = i & 3;
      copy16(weights + swizzled(row, unit), wq + row * kChunk + unit * 8, true);
    }
  };

  float acc[kRows][kAcc];
#pragma unroll
  for (int i = 0; i < kRows; ++i)
#pragma unroll
    for (int k = 0; k < kAcc; ++k) acc[i][k] = 0.0f;

  load(0, 0);
  commit();
  unsigned a[2][kWinRows][4];
#pragma unroll(FLOW ? 8 : 1)
  for (int q = 0; q < chunks; ++q) {
    if constexpr (FLOW) {
      asm volatile("cp.async.wait_group 0;\n" ::);
    } else {
      if (q + 1 < chunks) load(q + 1, (q + 1) & 1);
      commit();  // an empty group on the last block keeps the wait below uniform
      wait_all_but_one();
    }
    // cp.async wrote through the generic proxy; wgmma reads through the async proxy.
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    __syncthreads();
    const unsigned window = base + static_cast<unsigned>((q & 1) * kStageBytes);
    const unsigned weights = window + kWinBytes;
#pragma unroll
    for (int g = 0; g < 6; ++g) {
      const int kx = g >> 1, kk = g & 1;
      // Group g - 2 (with FLOW, of the previous block for g < 2), the last reader of this A buffer, is done.
      if (g >= 2 || FLOW) wgmma_wait<1>();
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
      if (FLOW && g == 0) {
        wgmma_wait<1>();  // the previous block's products are done: its stage may be overwritten
        if (q + 1 < chunks) load(q + 1, (q + 1) & 1);
        commit();
      }
    }
    if constexpr (!FLOW) {
      wgmma_wait<0>();
      __syncthreads();  // the next iteration's copy overwrites the stage just read
    }
  }
  if constexpr (FLOW) wgmma_wait<0>();
#pragma unroll
  for (int i = 0; i < kRows; ++i)
#pragma unroll
    for (int k = 0; k < kAcc; ++k) pin(acc[i][k]);

  const int g = lane >> 2, pair = 2 * (lane & 3);
#pragma unroll
  for (int i = 0; i < kRows; ++i) {
    const int y = y0 + i;
    if (y >= p.h) continue;
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int x = x0 + warp * 16 + g + half * 8;
      if (x >= p.w) continue;
      const std::int64_t pixel = (static_cast<std::int64_t>(n) * p.h + y) * p.w + x;
#pragma unroll
      for (int j = 0; j < kCout / 8; ++j) {
        store_pair(p, pixel, j * 8 + pair, acc[i][4 * j + 2 * half], acc[i][4 * j + 2 * half + 1]);
      }
    }
  }
#else
  (void)p;
#endif
}

}  // namespace

template <class S, int CHUNKS>
cudaError_t prepare() {
  return cudaFuncSetAttribute(dense_conv_wgmma_kernel<S, CHUNKS>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                              S::kSmemBytes);
}

// The unrolled kernels take 1..kMaxFlowChunks blocks of input channels (the RRDN's 64..192).
constexpr int kMaxFlowChunks = 6;

template <class S, int C = 0>
cudaError_t prepare_all() {
  const cudaError_t err = prepare<S, C>();
  if constexpr (C < kMaxFlowChunks) {
    if (err == cudaSuccess) return prepare_all<S, C + 1>();
  }
  return err;
}

cudaError_t prepare_wgmma_kernel() {
  const cudaError_t err = prepare_all<Growth>();
  return err == cudaSuccess ? prepare_all<Wide>() : err;
}

// Launches the kernel for `chunks` blocks of channels (0: the loop that reads the count).
template <class S, int C = 0>
void launch_chunks(const DenseConvParams& p, int chunks, unsigned grid, cudaStream_t stream) {
  if constexpr (C < kMaxFlowChunks) {
    if (chunks != C) return launch_chunks<S, C + 1>(p, chunks, grid, stream);
  }
  dense_conv_wgmma_kernel<S, C><<<grid, kThreads, S::kSmemBytes, stream>>>(p);
}

template <class S>
void launch(const DenseConvParams& p, bool flow, cudaStream_t stream) {
  const std::int64_t blocks =
      static_cast<std::int64_t>(p.n) * ((p.h + S::ROWS - 1) / S::ROWS) * ((p.w + kTileW - 1) / kTileW);
  const int chunks = p.in_channels / kChunk;
  launch_chunks<S>(p, flow && chunks <= kMaxFlowChunks ? chunks : 0, static_cast<unsigned>(blocks), stream);
}

void launch_wgmma_kernel(const DenseConvParams& p, int out_channels, bool flow, cudaStream_t stream) {
  if (out_channels == 32)
    launch<Growth>(p, flow, stream);
  else
    launch<Wide>(p, flow, stream);
}

}  // namespace upscaled::model::cudnn::dense_conv_detail
