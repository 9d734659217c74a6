// A convolutional graph run with cuDNN's fused calls, for the dense blocks of the ESRGAN
// family (idealo RDN/RRDN). Torch-free: plain device pointers, an explicit cudaStream_t and
// an Allocator that the caller implements (model/torch hands it libtorch's caching allocator
// so that memory planning sees every byte).
//
// Why: eager execution runs every convolution's bias, ReLU, concatenation and scaled residual
// as separate passes over memory. Here each convolution is one cuDNN call followed by one pass
// of the executor's own epilogue kernel (model/cudnn/channel_epilogue.h) that adds the bias
// and the scaled residual, applies the ReLU, and writes the result into every concatenation
// that contains it, so that no concatenation is ever copied; or, with split_convolutions
// (the product's choice, model/torch/tfjs_cudnn.cpp), each part of a concatenation is
// convolved once for all its readers and the epilogue sums the partial results, so that no
// concatenation is built at all (both measured in docs/network-speed.md). Adds, scales and
// ReLUs that do not fold into a convolution run as the same kernel, with the same placement
// into concatenations.
//
// Layout: every tensor is float16 NHWC, packed (pixel stride = its channel count). Only the
// leading part of the graph that uses supported operations runs here (input, stride-1
// convolutions with symmetric padding and linear/ReLU activation, ReLU, channel concatenation,
// weighted adds of up to four inputs, constant scales); run() stops at the first other node
// (e.g. depth_to_space) and hands back the values that the rest of the graph still needs.
//
// Contract: the constructor only plans (no CUDA calls). run() is asynchronous on `stream`
// (it enqueues work and returns); it must be called with the device that owns the weights
// current, from one thread at a time. Weights and biases stay owned by the caller and must
// outlive the CudnnGraph. Errors throw upscaled::Error(ErrorCode::device) with cuDNN's text.
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

namespace upscaled::model::cudnn {

struct GraphOp {
  enum class Kind { input, conv, relu, concat, add, scale, unsupported };
  Kind kind = Kind::unsupported;
  std::vector<int> inputs;  // indices of earlier ops
  int channels = 0;         // output channels
  // conv: square kernel, symmetric zero padding, stride 1; weight float16 [out][k][k][in]
  // (KRSC, i.e. OIHW in channels_last memory), bias float16 [out] (never null).
  int kernel = 0, pad = 0;
  bool relu = false;  // the convolution's own activation
  const void* weight = nullptr;
  const void* bias = nullptr;
  std::vector<float> alphas;  // add: one factor per input
  float factor = 1.0f;        // scale
};

// Device memory for run(): allocate() returns at least `bytes` bytes usable in stream order
// on run()'s stream; release() returns a pointer that no later-enqueued work will touch.
class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void release(void* p) = 0;
};

class CudnnGraph {
 public:
  // Where a value is also written: channel `offset` of concatenation op `concat`'s buffer.
  struct Placement {
    int concat = 0, offset = 0;
  };

  // A split convolution's input: part convolution `part`'s outputs from channel `offset`.
  struct PartSlice {
    int part = 0, offset = 0;
  };

  // ops[0] is the input; ops are in topological order; ops.back() is the graph's output.
  // split_convolutions: run each convolution over a concatenation as one convolution per
  // part of it, merged with every other convolution that reads the same part into one wider
  // convolution, the partial sums added in the epilogue (no concatenation at all; measured
  // in docs/network-speed.md). Off: the concatenations are filled by placement.
  // own_convolutions (without split): a concatenation that is a prefix of a wider one lives
  // in the wider one's buffer, and the 3x3 convolutions with 32 or 64 outputs that read it
  // run on the executor's own kernel (model/cudnn/dense_conv.h), which reads the prefix in
  // place and writes its result, with bias and ReLU, straight into its slot: a dense block's
  // growth convolutions with no concatenation copies and no epilogue passes. A graph where
  // no convolution can run on it is planned as split_convolutions says.
  // own_fusion (with own_convolutions): the 3x3 convolutions with 32 or 64 outputs and a
  // residual that read a whole concatenation (a dense block's fusion convolution) run on the
  // own kernel too, the residual in its epilogue.
  // slots: a value may live in its one concatenation slot (lives_in_slot); second_residual: an
  // add of a convolution's residual sum and another value folds into that convolution
  // (second_residual_of). Both on unless a comparison turns them off.
  explicit CudnnGraph(std::vector<GraphOp> ops, bool split_convolutions = false, bool own_convolutions = false,
                      bool own_fusion = false, bool slots = true, bool second_residual = true);
  ~CudnnGraph();
  CudnnGraph(const CudnnGraph&) = delete;
  CudnnGraph& operator=(const CudnnGraph&) = delete;

  // The first op not run here (ops.size() when the whole graph runs here).
  int stop() const { return stop_; }
  // The value a convolution adds as its second residual (z2), or -1.
  int second_residual_of(int conv) const { return residual_[static_cast<std::size_t>(conv)].z2; }
  // Ops run here, how many of them became fused epilogues of a convolution, and how many
  // concatenations are filled by placement alone.
  int ops_run() const { return stop_ - 1; }
  int op_count() const { return static_cast<int>(ops_.size()); }
  int fused() const { return fused_; }
  int placed() const { return placed_; }
  // Widest op output below stop(): run() needs n * h * w * max_channels() < 2^31 (cuDNN's
  // tensors index with 32 bits); callers route larger inputs elsewhere.
  int max_channels() const { return max_channels_; }
  // The op whose buffer holds op i's value (i itself, or an earlier op for fused/pass-through ops).
  int alias_of(int i) const { return alias_[static_cast<std::size_t>(i)]; }
  // Whether op i (a buffer owner) keeps a packed buffer of its own: false for a value that
  // only concatenations read (it lives in their buffers), for a concatenation that only
  // other concatenations read, and for a value that lives in its one slot (below).
  bool has_buffer(int i) const { return own_[static_cast<std::size_t>(i)]; }
  // Whether value i lives in its one concatenation slot and is read there, at the
  // concatenation's stride, also by the ops that read it directly (the own kernel, epilogues).
  bool lives_in_slot(int i) const { return slotted_[static_cast<std::size_t>(i)]; }
  int values_in_slots() const { return static_cast<int>(std::count(slotted_.begin(), slotted_.end(), true)); }
  // The concatenation slices that op i's epilogue writes (buffer owners only).
  const std::vector<Placement>& placements(int i) const { return dests_[static_cast<std::size_t>(i)]; }
  // Split convolutions: how many part convolutions there are, the value each convolves and
  // its output channels, and the slices a split convolution sums (empty: not split).
  int part_count() const { return static_cast<int>(parts_.size()); }
  int part_leaf(int p) const { return parts_[static_cast<std::size_t>(p)].leaf; }
  int part_channels(int p) const { return parts_[static_cast<std::size_t>(p)].channels; }
  const std::vector<PartSlice>& part_slices(int conv) const { return sums_[static_cast<std::size_t>(conv)]; }
  // Own convolutions: the concatenation whose buffer holds concatenation k (-1: its own or
  // none), whether convolution i runs on the own kernel, and how many do.
  int host_of(int k) const { return host_[static_cast<std::size_t>(k)]; }
  bool runs_own_kernel(int i) const { return own_conv_[static_cast<std::size_t>(i)]; }
  int own_kernel_convs() const { return static_cast<int>(std::count(own_conv_.begin(), own_conv_.end(), true)); }
  // With the own kernels: whether convolution i (an image's few channels in, model/cudnn/input_conv.h)
  // runs on the input kernel, and how many do.
  bool runs_input_kernel(int i) const { return input_conv_[static_cast<std::size_t>(i)]; }
  int input_kernel_convs() const { return static_cast<int>(std::count(input_conv_.begin(), input_conv_.end(), true)); }

  // x: n x h x w x C0 float16 (packed NHWC) on the device, kept alive by the caller until the
  // enqueued work is done. Returns one pointer per op below stop(): the op's output (from
  // `alloc`, now owned by the caller) where an op at or after stop() still reads it or it is
  // the graph's output; nullptr otherwise (released, or op 0: the caller's own x). Aliased
  // ops (a fused ReLU or add, a linear scale) return the same pointer as the op they alias:
  // release it once.
  std::vector<void*> run(const void* x, int n, int h, int w, cudaStream_t stream, Allocator& alloc);

  // Pays run()'s first-call costs at input size n x h x w ahead of it: the plan, the part
  // weights, and one convolution of each distinct shape at that size (cuDNN prepares each new
  // problem at its first call, 40-70 ms of host time for thick's 8 shapes on the H200). The
  // convolutions run on zeroed scratch buffers from `alloc`, released before it returns; about
  // 1/20 of a run's GPU work. Same contract as run() (asynchronous on `stream`).
  // `after_step`, when given, is called on the calling thread after each host-side set-up
  // step ("handle", "plan", "scratch"), before the convolutions: a caller can let other
  // threads' set-up (pinned pools) wait until the steps that contend with it are done.
  void prime(int n, int h, int w, cudaStream_t stream, Allocator& alloc,
             const std::function<void(const char* step)>& after_step = {});

  // Assembles the part convolutions' weights now, at load time, instead of at the first
  // prime() or run() (which the first batch waits for). Asynchronous on `stream`: the caller
  // orders the streams of later calls after it.
  void assemble_weights(cudaStream_t stream) {
    if (!parts_.empty() && !part_weights_) assemble_part_weights(stream);
    if (own_kernel_convs() > 0 && !own_weights_) assemble_own_weights(stream);
  }

 private:
  struct Plan;
  struct Handles;
  struct Residual {
    int add = -1, z = -1;  // the add a convolution computes, and its other input's buffer
    float alpha_conv = 1.0f, alpha_z = 0.0f;
    int add2 = -1, z2 = -1;  // a second add of that sum alone with another value (an RRDB's)
    float alpha_z2 = 0.0f;
  };
  struct PartConv {
    int leaf = 0, kernel = 0, pad = 0;
    int channels = 0;  // the readers' outputs side by side
    struct Reader {
      int conv = 0, in_offset = 0, out_offset = 0;
    };
    std::vector<Reader> readers;
  };
  struct PartWeights;
  struct OwnWeights;
  std::vector<GraphOp> ops_;
  bool split_ = false;
  bool own_mode_ = false;
  bool own_fusion_ = false;
  bool slots_ = true;
  bool second_residual_ = true;
  std::vector<int> host_;                    // concat -> the concat whose buffer holds it
  std::vector<bool> own_conv_;               // conv -> runs on the own kernel
  std::vector<bool> input_conv_;             // conv -> runs on the input kernel
  std::unique_ptr<OwnWeights> own_weights_;  // by op, in the own kernel's order
  std::vector<PartConv> parts_;
  std::vector<std::vector<int>> part_at_;        // op -> part convolutions of its value
  std::vector<std::vector<PartSlice>> sums_;     // split conv -> the slices it sums
  std::vector<std::vector<int>> part_releases_;  // op -> part outputs that die after it
  std::unique_ptr<PartWeights> part_weights_;    // assembled at the first run
  int stop_ = 1;
  int fused_ = 0;
  int placed_ = 0;
  int max_channels_ = 0;
  std::vector<int> alias_;                     // op -> the op whose buffer holds its value
  std::vector<Residual> residual_;             // conv op -> the add it computes
  std::vector<bool> own_;                      // buffer owner -> has a packed buffer
  std::vector<bool> slotted_;                  // value -> lives in its one slot, dests_[i][0]
  std::vector<bool> kept_;                     // buffer-owning op -> handed back by run()
  std::vector<std::vector<Placement>> dests_;  // buffer owner -> concatenation slices
  std::vector<std::vector<int>> releases_;     // op -> buffers that die after it
  std::unique_ptr<Handles> handles_;
  std::vector<std::unique_ptr<Plan>> plans_;  // per input size
  void plan_graph();                          // cudnn_graph_plan.cpp
  void plan_split(const std::vector<std::vector<Placement>>& flat);
  void assemble_part_weights(cudaStream_t stream);
  void assemble_own_weights(cudaStream_t stream);
  void plan_hosts(const std::vector<std::vector<Placement>>& flat,
                  const std::vector<std::vector<int>>& readers);  // cudnn_graph_plan.cpp
  void plan_slots(const std::vector<std::vector<int>>& readers);  // cudnn_graph_plan.cpp
  Plan& plan_for(int n, int h, int w, bool* created);
  void make_handles();
};

}  // namespace upscaled::model::cudnn
