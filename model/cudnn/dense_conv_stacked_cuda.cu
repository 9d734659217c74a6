// The own 3x3 convolution on wgmma with the three tap columns stacked into one product, built
// for sm_90a only (contract in dense_conv.h; run_dense_conv takes it for DenseConvKernel::stacked,
// or for `automatic` where dense_conv_uses_stacked says so).
//
// Why: the wgmma kernel (dense_conv_wgmma_cuda.cu) runs 64x32x16 products, one per tap, each
// on an A operand shifted by the tap's column, so per block of 32 input channels it loads every
// window row three times with ldmatrix (once per kx) and issues 9 small products per output row
// and channel half; counted per multiply-add, its shared-memory traffic (ldmatrix, the tensor
// cores' reads of B, the copies in) exceeds what shared memory delivers at the tensor cores'
// rate. Here a product multiplies the unshifted window row (64 pixels, A) by the weights of all
// three columns of one tap row at once (B: 3 x COUT rows, which pack_dense_conv_weights already
// lays out one after the other), so each window row is loaded once per channel half and one
// 64x(3 COUT)x16 product replaces three. The accumulators then hold, for each pixel m of the
// row, D[m][kx][co]; the output at pixel m is D[m-1][0] + D[m][1] + D[m+1][2], summed once per
// tile in the epilogue with warp shuffles (pixels 8 rows apart in the accumulator layout) and a
// few values through shared memory across warps. A tile's 64 window pixels give 62 outputs.
//
// A block (one warpgroup) owns ROWS output rows of 62 columns; the window (ROWS + 2 rows of 64
// pixels, 64 bytes each) and the 9 taps' weights of a block of 32 input channels go to shared
// memory with cp.async, two stages, as in the wgmma kernel.
#include "model/cudnn/dense_conv_device.cuh"
#include "model/cudnn/wgmma.cuh"

namespace upscaled::model::cudnn::dense_conv_detail {
namespace {

constexpr int kWinW = 64;         // window pixels per row: one product's M
constexpr int kOutW = kWinW - 2;  // output columns per tile
constexpr int kThreads = 128;

template <int COUT_, int ROWS_, int STAGES_>
struct Stacked {
  static constexpr int COUT = COUT_, ROWS = ROWS_, STAGES = STAGES_;
  static constexpr int kWinRows = ROWS + 2, kWinPixels = kWinRows * kWinW;
  static constexpr int kWinBytes = kWinPixels * 64;
  static constexpr int kStageBytes = kWinBytes + 9 * COUT * 64;
  static constexpr int kSmemBytes = STAGES * kStageBytes + 1024;  // room to align the base to 1024 bytes
  static constexpr int kAcc = 3 * COUT / 2;  // accumulators per thread and row: 3 tap columns x COUT / 2
  static constexpr int kBlocks = COUT / 8;   // 8-column blocks per tap column
  static constexpr int kEdge = kBlocks * 2;  // a thread's values per row and tap column
  static_assert(kStageBytes % 512 == 0, "every stage starts where the 64-byte swizzle pattern does");
  // The epilogue's cross-warp values: per row, two kinds, 4 warps, 4 lanes.
  static_assert(ROWS * 2 * 16 * kEdge * 4 <= kStageBytes, "the epilogue's exchange fits in a stage");
};

template <class S>
__global__ void __launch_bounds__(kThreads) dense_conv_stacked_kernel(DenseConvParams p) {
#ifdef UPSCALED_WGMMA_BODY
  constexpr int kRows = S::ROWS, kCout = S::COUT, kWinRows = S::kWinRows, kWinPixels = S::kWinPixels;
  constexpr int kWinBytes = S::kWinBytes, kStageBytes = S::kStageBytes, kAcc = S::kAcc;
  constexpr int kBlocks = S::kBlocks, kEdge = S::kEdge, kStages = S::STAGES;
  extern __shared__ __align__(1024) unsigned char smem[];
  const unsigned raw = shared_address(smem);
  const unsigned base = (raw + 1023u) & ~1023u;
  const int tiles_x = (p.w + kOutW - 1) / kOutW, tiles_y = (p.h + kRows - 1) / kRows;
  int b = static_cast<int>(blockIdx.x);
  const int x0 = (b % tiles_x) * kOutW;  // the first output column; window pixel m is column x0 - 1 + m
  b /= tiles_x;
  const int y0 = (b % tiles_y) * kRows;
  const int n = b / tiles_y;
  const int tid = static_cast<int>(threadIdx.x), lane = tid & 31, warp = tid >> 5;
  const int chunks = p.in_channels / kChunk;

  auto load = [&](int q, int stage) {
    const unsigned window = base + static_cast<unsigned>(stage * kStageBytes);
    for (int i = tid; i < kWinPixels * 4; i += kThreads) {
      const int px = i >> 2, unit = i & 3;
      const int y = y0 - 1 + px / kWinW, x = x0 - 1 + px % kWinW;
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

      // STAGES - 1 blocks of channels in flight: the copy of block q + STAGES - 1 is issued during
      // block q's products, into the stage block q - 1 used (its readers passed the barrier below).
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < chunks) load(s, s);
    commit();  // empty groups past the last block keep the waits uniform
  }
  int stage = 0;
  unsigned a[2][2][4];
  for (int q = 0; q < chunks; ++q) {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(kStages - 2));
    // cp.async wrote through the generic proxy; wgmma reads through the async proxy.
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    __syncthreads();
    const unsigned window = base + static_cast<unsigned>(stage * kStageBytes);
    const unsigned weights = window + kWinBytes;
    // Window row r feeds output rows r - ky (ky = 0, 1, 2) with tap row ky's three columns.
#pragma unroll
    for (int r = 0; r < kWinRows; ++r) {
      if (r >= 2) wgmma_wait<1>();  // group r - 2, the last reader of this A buffer, is done
#pragma unroll
      for (int kk = 0; kk < 2; ++kk)
        load_matrices(window + swizzled(r * kWinW + warp * 16 + (lane & 15), kk * 2 + (lane >> 4)), a[r & 1][kk]);
      wgmma_fence();
#pragma unroll
      for (int kk = 0; kk < 2; ++kk)
#pragma unroll
        for (int ky = 0; ky < 3; ++ky) {
          const int i = r - ky;
          if (i < 0 || i >= kRows) continue;
          wgmma_k16(acc[i], a[r & 1][kk],
                    weight_descriptor(weights + static_cast<unsigned>(ky * 3 * kCout * 64 + kk * 32)));
        }
      wgmma_commit();
      if (r == 0) {  // the products are queued: now the copies, which the tensor cores need not wait for
        const int next = q + kStages - 1;
        if (next < chunks) load(next, stage == 0 ? kStages - 1 : stage - 1);
        commit();
      }
    }
    wgmma_wait<0>();
    stage = stage + 1 == kStages ? 0 : stage + 1;
  }
  __syncthreads();  // every warp's last ldmatrix is done before the exchange below overwrites stage 0
#pragma unroll
  for (int i = 0; i < kRows; ++i)
#pragma unroll
    for (int k = 0; k < kAcc; ++k) pin(acc[i][k]);

  // Accumulator k = 4 j + 2 h + c holds pixel m = 16 warp + g + 8 h and column 8 j + pair + c,
  // that is tap column j / kBlocks and output channel 8 (j % kBlocks) + pair + c.
  const int g = lane >> 2, pair = 2 * (lane & 3);
  auto at = [](int kx, int blk, int h, int c) { return 4 * (kx * kBlocks + blk) + 2 * h + c; };
  // Pixels 16 warp - 1 and 16 warp + 16 belong to the neighbouring warps: the last row of each
  // warp publishes its tap column 0, the first its tap column 2.
  float* exchange = reinterpret_cast<float*>(smem + (base - raw));
  auto slot = [&](int i, int kind, int w, int v) { return ((((i * 2 + kind) * 4 + w) * 4 + (lane & 3)) * kEdge) + v; };
#pragma unroll
  for (int i = 0; i < kRows; ++i)
#pragma unroll
    for (int blk = 0; blk < kBlocks; ++blk)
#pragma unroll
      for (int c = 0; c < 2; ++c) {
        if (g == 7) exchange[slot(i, 0, warp, blk * 2 + c)] = acc[i][at(0, blk, 1, c)];
        if (g == 0) exchange[slot(i, 1, warp, blk * 2 + c)] = acc[i][at(2, blk, 0, c)];
      }
  __syncthreads();

#pragma unroll
  for (int i = 0; i < kRows; ++i) {
    const int y = y0 + i;
    float out[2][kEdge];
#pragma unroll
    for (int blk = 0; blk < kBlocks; ++blk)
#pragma unroll
      for (int c = 0; c < 2; ++c) {
        const int v = blk * 2 + c;
        // Lane - 4 holds pixel m - 1 for g > 0; for g = 0 it is lane + 28 (g = 7), whose first
        // row (h = 0) is pixel m - 1 of this lane's second row.
        const float s0 = __shfl_sync(0xffffffffu, acc[i][at(0, blk, 0, c)], (lane + 28) & 31);
        const float s1 = __shfl_sync(0xffffffffu, acc[i][at(0, blk, 1, c)], (lane + 28) & 31);
        // Lane + 4 holds pixel m + 1 for g < 7; for g = 7 it is lane - 28 (g = 0), whose second
        // row (h = 1) is pixel m + 1 of this lane's first row.
        const float t0 = __shfl_sync(0xffffffffu, acc[i][at(2, blk, 0, c)], (lane + 4) & 31);
        const float t1 = __shfl_sync(0xffffffffu, acc[i][at(2, blk, 1, c)], (lane + 4) & 31);
        const float before0 = g > 0 ? s0 : (warp > 0 ? exchange[slot(i, 0, warp - 1, v)] : 0.0f);
        const float before1 = g > 0 ? s1 : s0;
        const float after0 = g < 7 ? t0 : t1;
        const float after1 = g < 7 ? t1 : (warp < 3 ? exchange[slot(i, 1, warp + 1, v)] : 0.0f);
        out[0][v] = before0 + acc[i][at(1, blk, 0, c)] + after0;
        out[1][v] = before1 + acc[i][at(1, blk, 1, c)] + after1;
      }
    if (y >= p.h) continue;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int m = warp * 16 + g + h * 8, x = x0 - 1 + m;
      if (m == 0 || m == kWinW - 1 || x >= p.w) continue;  // window pixels only, no output
      const std::int64_t pixel = (static_cast<std::int64_t>(n) * p.h + y) * p.w + x;
#pragma unroll
      for (int blk = 0; blk < kBlocks; ++blk)
        store_pair(p, pixel, blk * 8 + pair, out[h][blk * 2], out[h][blk * 2 + 1]);
    }
  }
#else
  (void)p;
#endif
}

template <class S>
cudaError_t prepare() {
  return cudaFuncSetAttribute(dense_conv_stacked_kernel<S>, cudaFuncAttributeMaxDynamicSharedMemorySize, S::kSmemBytes);
}

template <class S>
void launch(const DenseConvParams& p, cudaStream_t stream) {
  const std::int64_t blocks =
      static_cast<std::int64_t>(p.n) * ((p.h + S::ROWS - 1) / S::ROWS) * ((p.w + kOutW - 1) / kOutW);
  dense_conv_stacked_kernel<S><<<static_cast<unsigned>(blocks), kThreads, S::kSmemBytes, stream>>>(p);
}

// The shapes measured (docs/network-speed.md): 32 outputs in 2 or 4 rows, 64 in 1 or 2, each
// with 2 or 3 stages (4 for 2 rows of 32).
template <int COUT, int ROWS>
cudaError_t prepare_rows() {
  cudaError_t err = prepare<Stacked<COUT, ROWS, 2>>();
  if (err == cudaSuccess) err = prepare<Stacked<COUT, ROWS, 3>>();
  return err;
}

template <int COUT, int ROWS>
void launch_rows(const DenseConvParams& p, int stages, cudaStream_t stream) {
  if (stages <= 2)
    launch<Stacked<COUT, ROWS, 2>>(p, stream);
  else if (stages == 3 || COUT != 32 || ROWS != 2)
    launch<Stacked<COUT, ROWS, 3>>(p, stream);
  else
    launch<Stacked<32, 2, 4>>(p, stream);
}

}  // namespace

cudaError_t prepare_stacked_kernel() {
  cudaError_t err = prepare_rows<32, 2>();
  if (err == cudaSuccess) err = prepare_rows<32, 4>();
  if (err == cudaSuccess) err = prepare_rows<64, 1>();
  if (err == cudaSuccess) err = prepare_rows<64, 2>();
  if (err == cudaSuccess) err = prepare<Stacked<32, 2, 4>>();
  return err;
}

void launch_stacked_kernel(const DenseConvParams& p, int out_channels, int rows, int stages, cudaStream_t stream) {
  if (out_channels == 32)
    rows <= 2 ? launch_rows<32, 2>(p, stages, stream) : launch_rows<32, 4>(p, stages, stream);
  else
    rows <= 1 ? launch_rows<64, 1>(p, stages, stream) : launch_rows<64, 2>(p, stages, stream);
}

}  // namespace upscaled::model::cudnn::dense_conv_detail
