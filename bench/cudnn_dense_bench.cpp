// Experiment for the network speed work (docs/network-speed.md): how fast can the body of
// esrgan-thick (idealo RRDN, C=4 D=3 G=32 G0=64 T=10) run on cuDNN when
//   fused:  every growth convolution reads its dense-block prefix in place (a strided NHWC
//           view of one preallocated block buffer) and writes conv + bias + ReLU straight
//           into its own channel slice of that buffer, and every local fusion convolution
//           adds its scaled residual in the same call (cudnnConvolutionBiasActivationForward);
//   eager:  the same convolutions on packed tensors, then bias, ReLU, concatenation and the
//           scaled residual adds as separate passes (what eager libtorch does);
//   convs:  only the 150 convolutions on packed tensors (the convolution cost alone);
//   split-convs: the same multiply-adds as 150 convolutions of the dense blocks' parts
//           (run_split_convs below);
//   own-fused: the placement of `fused` with the executor's own convolution kernel
//           (model/cudnn/dense_conv.h): prefixes read in place, bias + ReLU and the scaled
//           residual in the kernel, results written into their slices;
//   own-hybrid: the same with the fusion convolutions on cuDNN (packed block buffer in, a
//           packed scratch out) and the executor's epilogue kernel for bias and residual.
// Random weights; float16 NHWC, float32 accumulation; timed with CUDA events, medians.
// Also checks the fused strided path against the packed separate-pass path on one growth
// and one fusion convolution (max abs difference printed).
//
//   bench_cudnn_dense [--sizes 640x360,1280x720] [--batch N] [--iterations N] [--graph] [--nhwc-only]
#include "model/cudnn/channel_epilogue.h"
#include "model/cudnn/dense_conv.h"

#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstdint>
#include <cstring>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace {

void check(cudnnStatus_t s, const char* what) {
  if (s != CUDNN_STATUS_SUCCESS) throw std::runtime_error(std::string(what) + ": " + cudnnGetErrorString(s));
}
void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

constexpr int kC = 4, kD = 3, kG = 32, kG0 = 64, kT = 10;
constexpr int kBlockChannels = kG0 + kC * kG;  // 192
constexpr float kBeta = 0.2f;

struct Buffer {
  __half* p = nullptr;
  std::size_t n = 0;
  explicit Buffer(std::size_t elems) : n(elems) { check(cudaMalloc(&p, elems * sizeof(__half)), "cudaMalloc"); }
  ~Buffer() { cudaFree(p); }
  Buffer(Buffer&& o) noexcept : p(o.p), n(o.n) { o.p = nullptr; }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer& operator=(Buffer&&) = delete;
};

// An NHWC view: `channels` channels starting at `offset` of a buffer with `stride` channels per pixel.
// In NCHW a view's channel offset is in planes; with batch 1 a channel prefix or slice of an
// NCHW buffer is itself a packed tensor, so concatenation by placement needs no strides.
struct View {
  __half* base;
  int stride, offset, channels;
};

class Descs {
 public:
  Descs(int n, int h, int w, bool nchw) : n_(n), h_(h), w_(w), nchw_(nchw) {}
  ~Descs() {
    for (auto& [k, d] : tensors_) cudnnDestroyTensorDescriptor(d);
    for (auto& [k, d] : filters_) cudnnDestroyFilterDescriptor(d);
  }
  cudnnTensorDescriptor_t tensor(const View& v) { return tensor(v.channels, v.stride); }
  cudnnTensorDescriptor_t tensor(int channels, int stride) {
    auto key = std::make_pair(channels, stride);
    auto it = tensors_.find(key);
    if (it != tensors_.end()) return it->second;
    cudnnTensorDescriptor_t d;
    check(cudnnCreateTensorDescriptor(&d), "tensor desc");
    if (nchw_)
      check(cudnnSetTensor4dDescriptorEx(d, CUDNN_DATA_HALF, n_, channels, h_, w_, h_ * w_ * stride, h_ * w_, w_, 1),
            "tensor desc set");
    else
      check(cudnnSetTensor4dDescriptorEx(d, CUDNN_DATA_HALF, n_, channels, h_, w_, h_ * w_ * stride, 1, w_ * stride,
                                         stride),
            "tensor desc set");
    tensors_[key] = d;
    return d;
  }
  cudnnFilterDescriptor_t filter(int out, int in, int k) {
    auto key = std::make_tuple(out, in, k);
    auto it = filters_.find(key);
    if (it != filters_.end()) return it->second;
    cudnnFilterDescriptor_t d;
    check(cudnnCreateFilterDescriptor(&d), "filter desc");
    check(cudnnSetFilter4dDescriptor(d, CUDNN_DATA_HALF, nchw_ ? CUDNN_TENSOR_NCHW : CUDNN_TENSOR_NHWC, out, in, k, k),
          "filter desc set");
    filters_[key] = d;
    return d;
  }

 private:
  int n_, h_, w_;
  bool nchw_;
  std::map<std::pair<int, int>, cudnnTensorDescriptor_t> tensors_;
  std::map<std::tuple<int, int, int>, cudnnFilterDescriptor_t> filters_;
};

struct Conv {
  int in, out;
  Buffer w, b, b_scaled;
  Conv(Conv&&) = default;
  Conv(int in_, int out_, std::mt19937& rng)
      : in(in_), out(out_), w(std::size_t(out_) * in_ * 9), b(out_), b_scaled(out_) {
    const float a = std::sqrt(1.0f / (9.0f * in_));
    std::uniform_real_distribution<float> u(-a, a);
    std::vector<__half> hw(w.n), hb(out_), hs(out_);
    for (auto& x : hw) x = __float2half(u(rng));
    for (int i = 0; i < out_; ++i) {
      const float v = u(rng);
      hb[i] = __float2half(v);
      hs[i] = __float2half(v * kBeta);
    }
    check(cudaMemcpy(w.p, hw.data(), hw.size() * 2, cudaMemcpyHostToDevice), "upload w");
    check(cudaMemcpy(b.p, hb.data(), hb.size() * 2, cudaMemcpyHostToDevice), "upload b");
    check(cudaMemcpy(b_scaled.p, hs.data(), hs.size() * 2, cudaMemcpyHostToDevice), "upload b");
  }
};

class Runner {
 public:
  Runner(int n, int h, int w, bool nchw, cudaStream_t s) : n_(n), h_(h), w_(w), nchw_(nchw), descs_(n, h, w, nchw) {
    check(cudnnCreate(&handle_), "cudnnCreate");
    check(cudnnSetStream(handle_, s), "cudnnSetStream");
    check(cudnnCreateConvolutionDescriptor(&conv_), "conv desc");
    check(cudnnSetConvolution2dDescriptor(conv_, 1, 1, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
          "conv desc set");
    check(cudnnSetConvolutionMathType(conv_, CUDNN_TENSOR_OP_MATH), "math type");
    check(cudnnCreateActivationDescriptor(&relu_), "act");
    check(cudnnSetActivationDescriptor(relu_, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0), "act set");
    check(cudnnCreateActivationDescriptor(&identity_), "act");
    check(cudnnSetActivationDescriptor(identity_, CUDNN_ACTIVATION_IDENTITY, CUDNN_NOT_PROPAGATE_NAN, 0.0), "act set");
    check(cudaMalloc(&workspace_, kWorkspace), "workspace");
  }
  ~Runner() {
    cudaFree(workspace_);
    cudnnDestroyActivationDescriptor(relu_);
    cudnnDestroyActivationDescriptor(identity_);
    cudnnDestroyConvolutionDescriptor(conv_);
    cudnnDestroy(handle_);
  }

  // The fastest algorithm cuDNN measures for these exact (possibly strided) views.
  cudnnConvolutionFwdAlgo_t algo(const Conv& c, const View& x, const View& y) {
    auto key = std::make_tuple(c.in, c.out, x.stride, y.stride);
    auto it = algos_.find(key);
    if (it != algos_.end()) return it->second;
    cudnnConvolutionFwdAlgoPerf_t perf[8];
    int got = 0;
    check(
        cudnnFindConvolutionForwardAlgorithmEx(handle_, descs_.tensor(x), ptr(x), descs_.filter(c.out, c.in, 3), c.w.p,
                                               conv_, descs_.tensor(y), ptr(y), 8, &got, perf, workspace_, kWorkspace),
        "find algorithm");
    cudnnConvolutionFwdAlgo_t best = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
    bool found = false;
    std::printf("  %s conv %3d->%2d x stride %3d y stride %3d:", nchw_ ? "nchw" : "nhwc", c.in, c.out, x.stride,
                y.stride);
    for (int i = 0; i < got; ++i) {
      std::printf(" [algo %d %s %.3f ms]", int(perf[i].algo),
                  perf[i].status == CUDNN_STATUS_SUCCESS ? "ok" : cudnnGetErrorString(perf[i].status), perf[i].time);
      if (!found && perf[i].status == CUDNN_STATUS_SUCCESS) {
        best = perf[i].algo;
        found = true;
      }
    }
    std::printf("\n");
    algos_[key] = best;
    return best;
  }

  void conv(const Conv& c, const View& x, const View& y) {
    const float one = 1, zero = 0;
    check(cudnnConvolutionForward(handle_, &one, descs_.tensor(x), ptr(x), descs_.filter(c.out, c.in, 3), c.w.p, conv_,
                                  algo(c, x, y), workspace_, kWorkspace, &zero, descs_.tensor(y), ptr(y)),
          "conv");
  }
  // y = relu(conv(x) + b)
  void conv_relu(const Conv& c, const View& x, const View& y) {
    const float one = 1, zero = 0;
    auto call = [&](cudnnConvolutionFwdAlgo_t a) {
      return cudnnConvolutionBiasActivationForward(
          handle_, &one, descs_.tensor(x), ptr(x), descs_.filter(c.out, c.in, 3), c.w.p, conv_, a, workspace_,
          kWorkspace, &zero, descs_.tensor(y), ptr(y), bias_desc(c.out), c.b.p, relu_, descs_.tensor(y), ptr(y));
    };
    const cudnnConvolutionFwdAlgo_t a = algo(c, x, y);
    cudnnStatus_t st = call(a);
    if (st == CUDNN_STATUS_NOT_SUPPORTED && a != CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM) {
      std::printf("  conv+bias+relu: algo %d not supported fused; using implicit precomp gemm\n", int(a));
      algos_[std::make_tuple(c.in, c.out, x.stride, y.stride)] = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
      st = call(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM);
    }
    check(st, "conv+bias+relu");
  }
  // y = z + beta * (conv(x) + b): cuDNN adds the bias unscaled, so it gets beta * b.
  void conv_residual(const Conv& c, const View& x, const View& z, const View& y) {
    const float beta = kBeta, one = 1;
    check(cudnnConvolutionBiasActivationForward(handle_, &beta, descs_.tensor(x), ptr(x), descs_.filter(c.out, c.in, 3),
                                                c.w.p, conv_, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM,
                                                workspace_, kWorkspace, &one, descs_.tensor(z), ptr(z),
                                                bias_desc(c.out), c.b_scaled.p, identity_, descs_.tensor(y), ptr(y)),
          "conv+bias+residual");
  }
  // c = alpha * a + beta * c (a may broadcast: a bias)
  void add(float alpha, cudnnTensorDescriptor_t ad, const void* a, float beta, const View& c) {
    check(cudnnAddTensor(handle_, &alpha, ad, a, &beta, descs_.tensor(c), ptr(c)), "add");
  }
  void relu(const View& v) {
    const float one = 1, zero = 0;
    check(cudnnActivationForward(handle_, relu_, &one, descs_.tensor(v), ptr(v), &zero, descs_.tensor(v), ptr(v)),
          "relu");
  }
  void copy(const View& from, const View& to) {
    const float one = 1, zero = 0;
    check(cudnnTransformTensor(handle_, &one, descs_.tensor(from), ptr(from), &zero, descs_.tensor(to), ptr(to)),
          "copy");
  }
  cudnnTensorDescriptor_t tensor(const View& v) { return descs_.tensor(v); }
  cudnnTensorDescriptor_t bias_desc(int c) {
    auto it = bias_.find(c);
    if (it != bias_.end()) return it->second;
    cudnnTensorDescriptor_t d;
    check(cudnnCreateTensorDescriptor(&d), "bias desc");
    check(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NHWC, CUDNN_DATA_HALF, 1, c, 1, 1), "bias desc set");
    bias_[c] = d;
    return d;
  }
  std::size_t pixels() const { return std::size_t(n_) * h_ * w_; }
  int n() const { return n_; }
  int h() const { return h_; }
  int w() const { return w_; }
  __half* ptr(const View& v) const { return v.base + std::size_t(v.offset) * (nchw_ ? std::size_t(h_) * w_ : 1); }

 private:
  static constexpr std::size_t kWorkspace = 256u << 20;
  int n_, h_, w_;
  bool nchw_;
  Descs descs_;
  cudnnHandle_t handle_{};
  cudnnConvolutionDescriptor_t conv_{};
  cudnnActivationDescriptor_t relu_{}, identity_{};
  void* workspace_ = nullptr;
  std::map<std::tuple<int, int, int, int>, cudnnConvolutionFwdAlgo_t> algos_;
  std::map<int, cudnnTensorDescriptor_t> bias_;
};

struct Weights {
  std::vector<Conv> growth, fusion;  // [t][d][c], [t][d]
  explicit Weights(std::mt19937& rng) {
    growth.reserve(kT * kD * kC);
    fusion.reserve(kT * kD);
    for (int i = 0; i < kT * kD; ++i) {
      for (int c = 0; c < kC; ++c) growth.emplace_back(kG0 + c * kG, kG, rng);
      fusion.emplace_back(kBlockChannels, kG0, rng);
    }
  }
};

// The RRDN body with every concatenation done by placement: three block buffers of 192
// channels; the RRDB input lives in slot 0 of block buffer 0.
void run_fused(Runner& r, const Weights& w, std::vector<Buffer>& blocks, Buffer& lrl) {
  for (int t = 0; t < kT; ++t) {
    for (int d = 0; d < kD; ++d) {
      Buffer& buf = blocks[d];
      for (int c = 0; c < kC; ++c) {
        const int in = kG0 + c * kG;
        r.conv_relu(w.growth[(t * kD + d) * kC + c], {buf.p, kBlockChannels, 0, in}, {buf.p, kBlockChannels, in, kG});
      }
      const View x0{buf.p, kBlockChannels, 0, kG0};
      // The last block's output goes to a scratch of the same layout (cuDNN's fused call
      // wants z and y alike).
      const View next{d + 1 < kD ? blocks[d + 1].p : lrl.p, kBlockChannels, 0, kG0};
      r.conv_residual(w.fusion[t * kD + d], {buf.p, kBlockChannels, 0, kBlockChannels}, x0, next);
    }
    // RRDB_out = in + beta * LRL_3, in place in block 0's slot 0 (the next RRDB's input).
    const View in{blocks[0].p, kBlockChannels, 0, kG0};
    r.add(kBeta, r.tensor({lrl.p, kBlockChannels, 0, kG0}), lrl.p, 1.0f, in);
  }
}

struct EagerBuffers {
  std::vector<Buffer> cat;  // 96, 128, 160, 192 channels (packed)
  Buffer f, x, lff, rrdb_in;
  explicit EagerBuffers(std::size_t px) : f(px * kG), x(px * kG0), lff(px * kG0), rrdb_in(px * kG0) {
    for (int c = 1; c <= kC; ++c) cat.emplace_back(px * (kG0 + c * kG));
  }
};

// Packed tensors and separate passes, as eager libtorch: conv, bias, relu, cat (copies of the
// previous concatenation and the new features), fusion conv, bias, scaled residual adds.
// fused_epilogues: bias + ReLU in the growth convolutions and bias + residual in the fusion
// convolutions (cuDNN's fused call on packed tensors); concatenation still copies.
void run_eager(Runner& r, const Weights& w, EagerBuffers& e, bool convs_only, bool fused_epilogues = false) {
  for (int t = 0; t < kT; ++t) {
    if (!convs_only) r.copy({e.x.p, kG0, 0, kG0}, {e.rrdb_in.p, kG0, 0, kG0});
    for (int d = 0; d < kD; ++d) {
      View prev{e.x.p, kG0, 0, kG0};
      for (int c = 0; c < kC; ++c) {
        const Conv& cv = w.growth[(t * kD + d) * kC + c];
        const View f{e.f.p, kG, 0, kG};
        if (fused_epilogues)
          r.conv_relu(cv, prev, f);
        else
          r.conv(cv, prev, f);
        const int total = kG0 + (c + 1) * kG;
        const View cat{e.cat[c].p, total, 0, total};
        if (!convs_only) {
          if (!fused_epilogues) {
            r.add(1.0f, r.bias_desc(kG), cv.b.p, 1.0f, f);
            r.relu(f);
          }
          r.copy(prev, {cat.base, total, 0, prev.channels});
          r.copy(f, {cat.base, total, prev.channels, kG});
        }
        prev = cat;
      }
      const Conv& fu = w.fusion[t * kD + d];
      const View lff{e.lff.p, kG0, 0, kG0};
      if (fused_epilogues) {
        r.conv_residual(fu, prev, {e.x.p, kG0, 0, kG0}, lff);  // lff = x + beta * (conv + b)
        r.copy(lff, {e.x.p, kG0, 0, kG0});
        continue;
      }
      r.conv(fu, prev, lff);
      if (!convs_only) {
        r.add(1.0f, r.bias_desc(kG0), fu.b.p, 1.0f, lff);
        r.add(kBeta, r.tensor(lff), r.ptr(lff), 1.0f, {e.x.p, kG0, 0, kG0});  // x = x + beta * lff
      }
    }
    if (!convs_only) {
      // RRDB_out = in + beta * x, written back into x
      const View x{e.x.p, kG0, 0, kG0};
      r.add(1.0f, r.tensor({e.rrdb_in.p, kG0, 0, kG0}), e.rrdb_in.p, kBeta, x);
    }
  }
}

// Concatenation-free split of the dense block: conv(cat(x, f1..fk), W) is the sum of one
// convolution per part, so each part can be convolved once for every later reader at the
// same time (x: 64 -> 4 * 32 + 64 = 192 outputs, f1: 32 -> 160, f2: 32 -> 128, f3: 32 -> 96,
// f4: 32 -> 64) and the partial sums added in the epilogues. Convolutions only, here: this
// mode asks whether wider outputs over shorter reductions run faster on cuDNN than the
// 32-output growth convolutions.
struct SplitWeights {
  std::vector<Conv> parts;  // [t][d][5]
  explicit SplitWeights(std::mt19937& rng) {
    parts.reserve(kT * kD * (kC + 1));
    for (int i = 0; i < kT * kD; ++i) {
      parts.emplace_back(kG0, kC * kG + kG0, rng);
      for (int c = 1; c <= kC; ++c) parts.emplace_back(kG, (kC - c) * kG + kG0, rng);
    }
  }
};

void run_split_convs(Runner& r, const SplitWeights& w, Buffer& x, Buffer& f, Buffer& partial) {
  for (int b = 0; b < kT * kD; ++b)
    for (int c = 0; c <= kC; ++c) {
      const Conv& cv = w.parts[static_cast<std::size_t>(b * (kC + 1) + c)];
      const View in = c == 0 ? View{x.p, kG0, 0, kG0} : View{f.p, kG, 0, kG};
      r.conv(cv, in, {partial.p, cv.out, 0, cv.out});
    }
}

void fill_random(Buffer& b, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<__half> h(b.n);
  for (auto& x : h) x = __float2half(u(rng));
  check(cudaMemcpy(b.p, h.data(), h.size() * 2, cudaMemcpyHostToDevice), "upload");
}

std::vector<float> download(const View& v, std::size_t px) {
  std::vector<__half> h(px * v.stride);
  check(cudaMemcpy(h.data(), v.base, h.size() * 2, cudaMemcpyDeviceToHost), "download");
  std::vector<float> out(px * v.channels);
  for (std::size_t p = 0; p < px; ++p)
    for (int c = 0; c < v.channels; ++c) out[p * v.channels + c] = __half2float(h[p * v.stride + v.offset + c]);
  return out;
}

float max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// The fused strided calls against packed separate passes on one growth and one fusion conv.
void check_fused(Runner& r, const Weights& w, std::mt19937& rng) {
  const std::size_t px = r.pixels();
  Buffer block(px * kBlockChannels), next(px * kBlockChannels), packed(px * kBlockChannels), out(px * kG0);
  fill_random(block, rng);
  fill_random(next, rng);
  const Conv& g = w.growth[3];  // 160 -> 32
  r.conv_relu(g, {block.p, kBlockChannels, 0, 160}, {block.p, kBlockChannels, 160, kG});
  r.copy({block.p, kBlockChannels, 0, 160}, {packed.p, 160, 0, 160});
  r.conv(g, {packed.p, 160, 0, 160}, {out.p, kG, 0, kG});
  r.add(1.0f, r.bias_desc(kG), g.b.p, 1.0f, {out.p, kG, 0, kG});
  r.relu({out.p, kG, 0, kG});
  check(cudaDeviceSynchronize(), "sync");
  std::printf("check growth conv (fused strided vs packed separate): max |diff| %.5f\n",
              max_diff(download({block.p, kBlockChannels, 160, kG}, px), download({out.p, kG, 0, kG}, px)));
  const Conv& f = w.fusion[0];
  r.conv_residual(f, {block.p, kBlockChannels, 0, kBlockChannels}, {block.p, kBlockChannels, 0, kG0},
                  {next.p, kBlockChannels, 0, kG0});
  r.copy({block.p, kBlockChannels, 0, kBlockChannels}, {packed.p, kBlockChannels, 0, kBlockChannels});
  r.conv(f, {packed.p, kBlockChannels, 0, kBlockChannels}, {out.p, kG0, 0, kG0});
  r.add(1.0f, r.bias_desc(kG0), f.b.p, 1.0f, {out.p, kG0, 0, kG0});
  r.add(1.0f, r.tensor({block.p, kBlockChannels, 0, kG0}), block.p, kBeta, {out.p, kG0, 0, kG0});
  check(cudaDeviceSynchronize(), "sync");
  std::printf("check fusion conv + residual: max |diff| %.5f (reference values up to ~%.1f)\n",
              max_diff(download({next.p, kBlockChannels, 0, kG0}, px), download({out.p, kG0, 0, kG0}, px)), 1.0);
}

// Every convolution's weights in the order of the executor's own kernel.
struct OwnWeights {
  std::vector<Buffer> growth, fusion;
  static Buffer pack(const Conv& c) {
    std::vector<std::uint16_t> ohwi(c.w.n);
    check(cudaMemcpy(ohwi.data(), c.w.p, ohwi.size() * 2, cudaMemcpyDeviceToHost), "download w");
    const std::vector<std::uint16_t> packed = upscaled::model::cudnn::pack_dense_conv_weights(ohwi, c.out, c.in);
    Buffer b(packed.size());
    check(cudaMemcpy(b.p, packed.data(), packed.size() * 2, cudaMemcpyHostToDevice), "upload packed w");
    return b;
  }
  explicit OwnWeights(const Weights& w) {
    for (const Conv& c : w.growth) growth.push_back(pack(c));
    for (const Conv& c : w.fusion) fusion.push_back(pack(c));
  }
};

upscaled::model::cudnn::DenseConvArgs own_args(const Runner& r, const Conv& c, const Buffer& packed, const View& x,
                                               const View& y) {
  upscaled::model::cudnn::DenseConvArgs a;
  a.in = x.base + x.offset;
  a.in_stride = x.stride;
  a.in_channels = x.channels;
  a.out = y.base + y.offset;
  a.out_stride = y.stride;
  a.out_channels = y.channels;
  a.weights = packed.p;
  a.bias = c.b.p;
  a.n = r.n();
  a.h = r.h();
  a.w = r.w();
  return a;
}

void own_conv_relu(const Runner& r, const Conv& c, const Buffer& packed, const View& x, const View& y, cudaStream_t s) {
  upscaled::model::cudnn::DenseConvArgs a = own_args(r, c, packed, x, y);
  a.relu = true;
  upscaled::model::cudnn::run_dense_conv(a, s);
}

// y = z + beta * (conv(x) + b)
void own_conv_residual(const Runner& r, const Conv& c, const Buffer& packed, const View& x, const View& z,
                       const View& y, cudaStream_t s) {
  upscaled::model::cudnn::DenseConvArgs a = own_args(r, c, packed, x, y);
  a.alpha = kBeta;
  a.z = z.base + z.offset;
  a.z_stride = z.stride;
  a.beta = 1.0f;
  upscaled::model::cudnn::run_dense_conv(a, s);
}

// run_fused's placement with the executor's own kernel. With `cudnn_fusion_scratch` (own-hybrid)
// the fusion convolutions run on cuDNN instead (the block buffer is packed once all four
// growth values are in it): a plain convolution into that packed scratch, then the executor's
// epilogue kernel adds bias and residual into the next block's slot.
void run_own(Runner& r, const Weights& w, const OwnWeights& own, std::vector<Buffer>& blocks, Buffer& lrl,
             Buffer* cudnn_fusion_scratch, cudaStream_t s) {
  for (int t = 0; t < kT; ++t) {
    for (int d = 0; d < kD; ++d) {
      Buffer& buf = blocks[d];
      for (int c = 0; c < kC; ++c) {
        const int in = kG0 + c * kG, i = (t * kD + d) * kC + c;
        own_conv_relu(r, w.growth[i], own.growth[i], {buf.p, kBlockChannels, 0, in}, {buf.p, kBlockChannels, in, kG},
                      s);
      }
      const View x0{buf.p, kBlockChannels, 0, kG0}, block{buf.p, kBlockChannels, 0, kBlockChannels};
      const View next{d + 1 < kD ? blocks[d + 1].p : lrl.p, kBlockChannels, 0, kG0};
      const Conv& f = w.fusion[t * kD + d];
      if (!cudnn_fusion_scratch) {
        own_conv_residual(r, f, own.fusion[t * kD + d], block, x0, next, s);
        continue;
      }
      r.conv(f, block, {cudnn_fusion_scratch->p, kG0, 0, kG0});
      upscaled::model::cudnn::ChannelEpilogue e;
      e.in[0] = {cudnn_fusion_scratch->p, kG0};
      e.alpha[0] = kBeta;
      e.in[1] = {buf.p, kBlockChannels};
      e.alpha[1] = 1.0f;
      e.inputs = 2;
      e.bias = f.b.p;
      e.bias_alpha = kBeta;
      e.out[0] = {next.base, kBlockChannels};
      e.outputs = 1;
      e.pixels = static_cast<std::int64_t>(r.pixels());
      e.channels = kG0;
      upscaled::model::cudnn::run_channel_epilogue(e, s);
    }
    const View in{blocks[0].p, kBlockChannels, 0, kG0};
    r.add(kBeta, r.tensor({lrl.p, kBlockChannels, 0, kG0}), lrl.p, 1.0f, in);
  }
}

// The own kernel against cuDNN's packed convolution + separate passes, one growth and one
// fusion convolution on strided views.
void check_own(Runner& r, const Weights& w, const OwnWeights& own, std::mt19937& rng, cudaStream_t s) {
  const std::size_t px = r.pixels();
  Buffer block(px * kBlockChannels), packed(px * kBlockChannels), out(px * kG0), mine(px * kBlockChannels);
  fill_random(block, rng);
  const Conv& g = w.growth[3];  // 160 -> 32
  r.copy({block.p, kBlockChannels, 0, 160}, {packed.p, 160, 0, 160});
  r.conv(g, {packed.p, 160, 0, 160}, {out.p, kG, 0, kG});
  r.add(1.0f, r.bias_desc(kG), g.b.p, 1.0f, {out.p, kG, 0, kG});
  r.relu({out.p, kG, 0, kG});
  own_conv_relu(r, g, own.growth[3], {block.p, kBlockChannels, 0, 160}, {mine.p, kBlockChannels, 8, kG}, s);
  check(cudaDeviceSynchronize(), "sync");
  const float dg = max_diff(download({mine.p, kBlockChannels, 8, kG}, px), download({out.p, kG, 0, kG}, px));
  const Conv& f = w.fusion[0];
  r.copy({block.p, kBlockChannels, 0, kBlockChannels}, {packed.p, kBlockChannels, 0, kBlockChannels});
  r.conv(f, {packed.p, kBlockChannels, 0, kBlockChannels}, {out.p, kG0, 0, kG0});
  r.add(1.0f, r.bias_desc(kG0), f.b.p, 1.0f, {out.p, kG0, 0, kG0});
  r.add(1.0f, r.tensor({block.p, kBlockChannels, 0, kG0}), block.p, kBeta, {out.p, kG0, 0, kG0});
  own_conv_residual(r, f, own.fusion[0], {block.p, kBlockChannels, 0, kBlockChannels},
                    {block.p, kBlockChannels, 0, kG0}, {mine.p, kBlockChannels, 64, kG0}, s);
  check(cudaDeviceSynchronize(), "sync");
  const float df = max_diff(download({mine.p, kBlockChannels, 64, kG0}, px), download({out.p, kG0, 0, kG0}, px));
  std::printf("check own kernel against cuDNN: growth 160->32 max |diff| %.5f, fusion 192->64 + residual %.5f (%s)\n",
              dg, df, dg < 0.02f && df < 0.02f ? "ok" : "MISMATCH");
}

template <typename F>
double median_ms(cudaStream_t s, int warmup, int iterations, F&& body) {
  cudaEvent_t a, b;
  check(cudaEventCreate(&a), "event");
  check(cudaEventCreate(&b), "event");
  std::vector<float> times;
  for (int i = 0; i < warmup + iterations; ++i) {
    check(cudaEventRecord(a, s), "record");
    body();
    check(cudaEventRecord(b, s), "record");
    check(cudaEventSynchronize(b), "sync");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, a, b), "elapsed");
    if (i >= warmup) times.push_back(ms);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::pair<int, int>> sizes{{640, 360}, {1280, 720}};
  int batch = 1, iterations = 10;
  bool graph = false, nhwc_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--sizes" && i + 1 < argc) {
      sizes.clear();
      std::string s = argv[++i];
      std::size_t at = 0;
      while (at < s.size()) {
        std::size_t comma = s.find(',', at);
        if (comma == std::string::npos) comma = s.size();
        const std::string one = s.substr(at, comma - at);
        sizes.emplace_back(std::stoi(one.substr(0, one.find('x'))), std::stoi(one.substr(one.find('x') + 1)));
        at = comma + 1;
      }
    } else if (a == "--batch" && i + 1 < argc) {
      batch = std::stoi(argv[++i]);
    } else if (a == "--iterations" && i + 1 < argc) {
      iterations = std::stoi(argv[++i]);
    } else if (a == "--graph") {
      graph = true;
    } else if (a == "--nhwc-only") {
      nhwc_only = true;
    } else {
      std::fprintf(stderr, "usage: %s [--sizes WxH,...] [--batch N] [--iterations N] [--graph] [--nhwc-only]\n",
                   argv[0]);
      return 2;
    }
  }
  try {
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, 0), "device");
    std::printf("device: %s, cuDNN %zu\n", prop.name, cudnnGetVersion());
    cudaStream_t s;
    check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "stream");
    std::mt19937 rng(7);
    Weights w(rng);
    SplitWeights split(rng);
    double body_macs = 0;
    for (const Conv& c : w.growth) body_macs += 9.0 * c.in * c.out;
    for (const Conv& c : w.fusion) body_macs += 9.0 * c.in * c.out;
    std::printf("RRDN body: %.0f multiply-adds per pixel\n", body_macs);
    for (auto [width, height] : sizes) {
      for (bool nchw : {false, true}) {
        if (nchw && nhwc_only) continue;
        Runner r(batch, height, width, nchw, s);
        const std::size_t px = r.pixels();
        std::printf("== %dx%d batch %d %s\n", width, height, batch, nchw ? "NCHW" : "NHWC");
        if (!nchw && width * height <= 640 * 360) try {
            check_fused(r, w, rng);
          } catch (const std::exception& ex) {
            std::printf("check failed: %s\n", ex.what());
          }
        std::vector<Buffer> blocks;
        for (int d = 0; d < kD; ++d) blocks.emplace_back(px * kBlockChannels);
        Buffer lrl(px * kBlockChannels);
        for (auto& b : blocks) fill_random(b, rng);
        EagerBuffers e(px);
        fill_random(e.x, rng);
        auto report = [&](const char* name, auto&& body) {
          try {
            const double ms = median_ms(s, 3, iterations, body);
            const double tflops = 2.0 * body_macs * double(px) / (ms * 1e-3) / 1e12;
            std::printf("%-14s %s %8.2f ms/batch  %7.2f ms/frame  %6.1f TFLOP/s\n", name, nchw ? "nchw" : "nhwc", ms,
                        ms / batch, tflops);
          } catch (const std::exception& ex) {
            std::printf("%-14s %s failed: %s\n", name, nchw ? "nchw" : "nhwc", ex.what());
            cudaGetLastError();
          }
          std::fflush(stdout);
        };
        if (!nchw) {
          const OwnWeights own(w);
          try {
            check_own(r, w, own, rng, s);
          } catch (const std::exception& ex) {
            std::printf("check own failed: %s\n", ex.what());
          }
          report("own-fused", [&] { run_own(r, w, own, blocks, lrl, nullptr, s); });
          {
            Buffer scratch(px * kG0);
            report("own-hybrid", [&] { run_own(r, w, own, blocks, lrl, &scratch, s); });
          }
          // One convolution of each kind alone: the own kernel on the block's strided views
          // against cuDNN's fastest on packed tensors.
          for (const int c : {0, 1, 2, 3}) {
            const Conv& g = w.growth[static_cast<std::size_t>(c)];
            const double macs = 9.0 * g.in * g.out * double(px);
            const double mine = median_ms(s, 3, iterations, [&] {
              own_conv_relu(r, g, own.growth[static_cast<std::size_t>(c)], {blocks[0].p, kBlockChannels, 0, g.in},
                            {blocks[0].p, kBlockChannels, g.in, kG}, s);
            });
            const double theirs = median_ms(s, 3, iterations, [&] {
              r.conv(g, {e.cat[3].p, g.in, 0, g.in}, {e.f.p, kG, 0, kG});
            });
            std::printf("  conv %d->%d: own %.3f ms (%.0f TFLOP/s), cuDNN packed %.3f ms (%.0f TFLOP/s)\n", g.in, g.out,
                        mine, 2 * macs / (mine * 1e9), theirs, 2 * macs / (theirs * 1e9));
          }
          const Conv& f = w.fusion[0];
          const double macs = 9.0 * f.in * f.out * double(px);
          const double mine = median_ms(s, 3, iterations, [&] {
            own_conv_residual(r, f, own.fusion[0], {blocks[0].p, kBlockChannels, 0, kBlockChannels},
                              {blocks[0].p, kBlockChannels, 0, kG0}, {lrl.p, kBlockChannels, 0, kG0}, s);
          });
          const double theirs = median_ms(s, 3, iterations, [&] {
            r.conv(f, {e.cat[3].p, kBlockChannels, 0, kBlockChannels}, {e.lff.p, kG0, 0, kG0});
          });
          std::printf("  conv %d->%d: own %.3f ms (%.0f TFLOP/s), cuDNN packed %.3f ms (%.0f TFLOP/s)\n", f.in, f.out,
                      mine, 2 * macs / (mine * 1e9), theirs, 2 * macs / (theirs * 1e9));
        }
        report("fused", [&] { run_fused(r, w, blocks, lrl); });
        report("convs", [&] { run_eager(r, w, e, true); });
        if (!nchw) {
          Buffer f(px * kG), partial(px * (kC * kG + kG0));
          fill_random(f, rng);
          report("split-convs", [&] { run_split_convs(r, split, e.x, f, partial); });
        }
        if (!nchw) {
          report("eager", [&] { run_eager(r, w, e, false); });
          report("packed-fused", [&] { run_eager(r, w, e, false, true); });
        }
        if (graph) try {
            cudaGraph_t g;
            cudaGraphExec_t exec;
            check(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), "capture");
            run_fused(r, w, blocks, lrl);
            check(cudaStreamEndCapture(s, &g), "end capture");
            check(cudaGraphInstantiate(&exec, g, 0), "instantiate");
            report("fused+graph", [&] { check(cudaGraphLaunch(exec, s), "launch"); });
            cudaGraphExecDestroy(exec);
            cudaGraphDestroy(g);
          } catch (const std::exception& ex) {
            std::printf("graph capture failed: %s\n", ex.what());
            cudaGraph_t broken = nullptr;
            if (cudaStreamEndCapture(s, &broken) == cudaSuccess && broken) cudaGraphDestroy(broken);
            cudaGetLastError();
          }
      }
    }
    cudaStreamDestroy(s);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "bench_cudnn_dense: %s\n", ex.what());
    return 1;
  }
  return 0;
}
