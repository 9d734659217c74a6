// CudnnGraph's planning, done once in the constructor without touching the device: which ops
// run here, which fold into a convolution's epilogue, which values live only inside the
// concatenations that contain them, and when each buffer dies.
#include "model/cudnn/channel_epilogue.h"
#include "model/cudnn/cudnn_graph.h"
#include "model/cudnn/input_conv.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace upscaled::model::cudnn {
namespace {

using Kind = GraphOp::Kind;

bool supported(const GraphOp& op) {
  switch (op.kind) {
    case Kind::conv:
      return op.kernel % 2 == 1 && op.pad == op.kernel / 2 && op.weight && op.bias && op.inputs.size() == 1;
    case Kind::add:
      return op.alphas.size() == op.inputs.size() && !op.inputs.empty() &&
             op.inputs.size() <= static_cast<std::size_t>(ChannelEpilogue::kMaxInputs);
    case Kind::relu:
    case Kind::scale:
      return op.inputs.size() == 1;
    case Kind::concat:
      return !op.inputs.empty();
    case Kind::input:
    case Kind::unsupported:
      return false;
  }
  return false;
}

}  // namespace

void CudnnGraph::plan_graph() {
  // Everything below is derived from ops_ and the two modes, so planning again starts clean.
  fused_ = placed_ = max_channels_ = 0;
  parts_.clear();
  const int count = static_cast<int>(ops_.size());
  stop_ = count;
  for (int i = 1; i < count; ++i)
    if (!supported(ops_[i])) {
      stop_ = i;
      break;
    }
  for (int i = 0; i < stop_; ++i) max_channels_ = std::max(max_channels_, ops_[i].channels);

  alias_.resize(ops_.size());
  for (int i = 0; i < count; ++i) alias_[i] = i;
  auto root = [&](int i) {
    while (alias_[i] != i) i = alias_[i];
    return i;
  };
  // Factor-1 scales (TF.js's linear activations, scales folded into weights) are their input.
  for (int i = 1; i < stop_; ++i)
    if (ops_[i].kind == Kind::scale && ops_[i].factor == 1.0f) alias_[i] = ops_[i].inputs[0];

  // Readers of each value, by the op that holds it; an op that folds into its producer hands
  // its own readers over to it.
  std::vector<std::vector<int>> readers(ops_.size());
  for (int i = 1; i < count; ++i) {
    if (i < stop_ && alias_[i] != i) continue;
    for (int in : ops_[i].inputs) readers[root(in)].push_back(i);
  }
  residual_.assign(ops_.size(), {});
  auto fusable_conv = [&](int c) {
    return c > 0 && ops_[c].kind == Kind::conv && !ops_[c].relu && residual_[c].add < 0 && readers[c].size() == 1;
  };
  auto refoldable_conv = [&](int c) {
    return second_residual_ && c > 0 && ops_[c].kind == Kind::conv && !ops_[c].relu && residual_[c].add >= 0 &&
           residual_[c].add2 < 0 && readers[c].size() == 1;
  };
  auto fold = [&](int i, int into) {
    alias_[i] = into;
    readers[into] = std::move(readers[i]);
    ++fused_;
  };
  for (int i = 1; i < stop_; ++i) {
    const GraphOp& op = ops_[i];
    if (alias_[i] != i) continue;
    if (op.kind == Kind::relu && fusable_conv(root(op.inputs[0]))) {
      const int c = root(op.inputs[0]);
      ops_[c].relu = true;
      fold(i, c);
    } else if (op.kind == Kind::add && op.inputs.size() == 2) {
      // The later input may be a convolution that computes the whole add: the earlier one
      // is then ready when it runs and becomes its residual.
      const int r0 = root(op.inputs[0]), r1 = root(op.inputs[1]);
      const int k = r0 > r1 ? 0 : 1;
      const int c = k == 0 ? r0 : r1;
      const int other = k == 0 ? r1 : r0;
      if (r0 != r1 && fusable_conv(c)) {
        residual_[c] = {i, other, op.alphas[static_cast<std::size_t>(k)], op.alphas[static_cast<std::size_t>(1 - k)]};
        fold(i, c);
      } else if (r0 != r1 && refoldable_conv(c) && other != residual_[c].z) {
        // a (alpha_conv (conv + bias) + alpha_z z) + b z2: an RRDB's residual over the sum its
        // last fusion convolution computes, which nothing else reads.
        Residual& r = residual_[c];
        const float a = op.alphas[static_cast<std::size_t>(k)];
        r.alpha_conv *= a;
        r.alpha_z *= a;
        r.add2 = i;
        r.z2 = other;
        r.alpha_z2 = op.alphas[static_cast<std::size_t>(1 - k)];
        fold(i, c);
      }
    }
  }
  for (int i = 0; i < count; ++i) alias_[i] = root(i);

  // A buffer survives run() when an op at or past stop() reads it or it holds the output.
  kept_.assign(ops_.size(), false);
  if (stop_ == count && count > 1) kept_[alias_[count - 1]] = true;
  for (int b = 0; b < stop_; ++b)
    for (int r : readers[b])
      if (r >= stop_) kept_[b] = true;
  auto only_concats_read = [&](int b) {
    return !readers[b].empty() &&
           std::all_of(readers[b].begin(), readers[b].end(), [&](int r) { return ops_[r].kind == Kind::concat; });
  };

  // Every concatenation as the list of the values it holds, nested concatenations flattened
  // (a dense block's k-th concatenation is [x, f1, ..., fk]).
  std::vector<std::vector<Placement>> flat(ops_.size());  // concat -> (value, offset)
  for (int k = 1; k < stop_; ++k) {
    if (ops_[k].kind != Kind::concat || alias_[k] != k) continue;
    int offset = 0;
    for (int in : ops_[k].inputs) {
      const int v = alias_[in];
      if (ops_[v].kind == Kind::concat)
        for (const Placement& p : flat[v]) flat[k].push_back({p.concat, offset + p.offset});
      else
        flat[k].push_back({v, offset});
      offset += ops_[in].channels;
    }
  }
  sums_.assign(ops_.size(), {});
  part_at_.assign(ops_.size(), {});
  part_releases_.assign(ops_.size(), {});
  if (split_) plan_split(flat);
  host_.assign(ops_.size(), -1);
  own_conv_.assign(ops_.size(), false);
  if (own_mode_ && !split_) plan_hosts(flat, readers);
  // With the own kernels, a convolution from an image's few channels (the network's first) runs
  // on the input kernel, its bias and ReLU in it and up to two destinations written there.
  input_conv_.assign(ops_.size(), false);
  if (own_mode_ && !split_)
    for (int r = 1; r < stop_; ++r) {
      const GraphOp& op = ops_[r];
      input_conv_[r] = op.kind == Kind::conv && alias_[r] == r && !own_conv_[r] && residual_[r].add < 0 &&
                       input_conv_takes(op.kernel, op.pad, ops_[op.inputs[0]].channels, op.channels);
    }
  std::vector<bool> hosting(ops_.size(), false);
  for (int k = 1; k < stop_; ++k)
    if (host_[k] >= 0) hosting[host_[k]] = true;

  // A concatenation that something other than a concatenation or a split convolution reads
  // gets a buffer; each value in it is written there by its producer.
  own_.assign(ops_.size(), false);
  dests_.assign(ops_.size(), {});
  auto read_in_place = [&](int r) { return ops_[r].kind == Kind::concat || (r < stop_ && !sums_[r].empty()); };
  for (int k = 1; k < stop_; ++k) {
    if (ops_[k].kind != Kind::concat || alias_[k] != k || host_[k] >= 0) continue;  // hosted: in its host's buffer
    own_[k] = kept_[k] || hosting[k] || readers[k].empty() ||
              !std::all_of(readers[k].begin(), readers[k].end(), read_in_place);
    if (!own_[k]) continue;
    ++placed_;
    for (const Placement& p : flat[k]) dests_[p.concat].push_back({k, p.offset});
  }
  for (int b = 1; b < stop_; ++b)
    if (alias_[b] == b && ops_[b].kind != Kind::concat)
      own_[b] = kept_[b] || dests_[b].empty() || !only_concats_read(b) || !part_at_[b].empty() ||
                dests_[b].size() >= static_cast<std::size_t>(ChannelEpilogue::kMaxOutputs);

  plan_slots(readers);

  // A buffer dies after its last reader (a concatenation's buffer is filled before its own
  // index and dies after its readers, the same rule).
  // A host's buffer also serves the readers of the concatenations it holds, and a
  // concatenation's buffer the readers of the values that live in its slots.
  releases_.assign(ops_.size(), {});
  for (int b = 1; b < stop_; ++b) {
    if (alias_[b] != b || !own_[b] || kept_[b]) continue;
    int dies = b;
    for (int r : readers[b]) dies = std::max(dies, r);
    for (int k = 1; k < stop_; ++k) {
      if (host_[k] == b)
        for (int r : readers[k]) dies = std::max(dies, r);
      if (slotted_[k] && dests_[k][0].concat == b)
        for (int r : readers[k]) dies = std::max(dies, r);
    }
    releases_[dies].push_back(b);
  }
}

// A value that one concatenation holds and other ops read too (with the own kernel, a dense
// block's output: the next block's prefix, read in place by that block's first growth
// convolution and as the residual of its fusion convolution) kept a packed buffer of its own,
// which its producer filled beside the slot, in one more pass where the own kernel produced
// it. It needs none when every other reader can read the slot, at the concatenation's
// stride, while that buffer lives: the own kernel (as its input or its residual) and the
// epilogue passes (a convolution's residual, an add, a scale, a ReLU) can; cuDNN's
// convolutions and the part convolutions cannot.
void CudnnGraph::plan_slots(const std::vector<std::vector<int>>& readers) {
  slotted_.assign(ops_.size(), false);
  if (!slots_) return;
  // Where a concatenation's buffer is last read, counted at the op that does the reading (a
  // folded add reads where its convolution runs).
  auto last_read = [&](int b) {
    int last = b;
    for (int r : readers[b]) last = std::max(last, alias_[r]);
    return last;
  };
  for (int b = 1; b < stop_; ++b) {
    if (alias_[b] != b || ops_[b].kind == Kind::concat || !own_[b] || kept_[b] || dests_[b].size() != 1 ||
        !part_at_[b].empty())
      continue;
    const Placement slot = dests_[b][0];
    if (slot.offset % 8 != 0 || ops_[slot.concat].channels % 8 != 0) continue;  // the own kernel's alignment
    int lives = last_read(slot.concat);
    for (int k = 1; k < stop_; ++k)
      if (host_[k] == slot.concat) lives = std::max(lives, last_read(k));
    bool fits = last_read(b) <= lives;
    for (int r : readers[b]) {
      const GraphOp& op = ops_[r];
      const int at = alias_[r];
      if (op.kind == Kind::concat) continue;
      if (op.kind == Kind::add && at != r)  // folded into convolution `at`: b is a residual
        fits = fits && (residual_[at].z == b || residual_[at].z2 == b);
      else if (op.kind == Kind::conv)
        fits = fits && own_conv_[r] && sums_[r].empty() && alias_[op.inputs[0]] == b;
      else
        fits = fits && (op.kind == Kind::add || op.kind == Kind::scale || op.kind == Kind::relu);
    }
    if (!fits) continue;
    own_[b] = false;
    slotted_[b] = true;
  }
}

// Own convolutions: a concatenation whose flattened values are the leading values of a wider
// one (a dense block's [x, f1] inside [x, f1, f2, f3, f4]) is that one's prefix, so it needs
// no buffer when everything that reads it can read a prefix in place: the 3x3 convolutions
// with 32 or 64 outputs and no residual that the own kernel runs. The widest such
// concatenation hosts it.
void CudnnGraph::plan_hosts(const std::vector<std::vector<Placement>>& flat,
                            const std::vector<std::vector<int>>& readers) {
  auto concat_owner = [&](int k) { return ops_[k].kind == Kind::concat && alias_[k] == k; };
  auto prefix_of = [&](int k, int wide) {
    const auto& a = flat[k];
    const auto& b = flat[wide];
    if (b.size() < a.size()) return false;
    for (std::size_t j = 0; j < a.size(); ++j)
      if (a[j].concat != b[j].concat || a[j].offset != b[j].offset) return false;
    return true;
  };
  auto kernel_takes = [&](int r, int k) {  // the own kernel's shapes, a residual or not
    const GraphOp& c = ops_[r];
    return r < stop_ && c.kind == Kind::conv && alias_[r] == r && c.kernel == 3 && c.pad == 1 &&
           (c.channels == 32 || c.channels == 64) && ops_[k].channels % 32 == 0;
  };
  auto own_kernel_runs = [&](int r, int k) { return kernel_takes(r, k) && residual_[r].add < 0; };
  for (int k = 1; k < stop_; ++k) {
    if (!concat_owner(k) || kept_[k] || readers[k].empty()) continue;
    int best = -1;
    for (int wide = 1; wide < stop_; ++wide)
      if (wide != k && concat_owner(wide) && ops_[wide].channels > ops_[k].channels && ops_[wide].channels % 8 == 0 &&
          prefix_of(k, wide) && (best < 0 || ops_[wide].channels > ops_[best].channels))
        best = wide;
    if (best < 0) continue;
    bool all = true, any = false;
    for (int r : readers[k]) {
      if (ops_[r].kind == Kind::concat) continue;  // flattened: it holds k's values itself
      if (own_kernel_runs(r, k))
        any = true;
      else
        all = false;
    }
    if (!all || !any) continue;
    host_[k] = best;
    for (int r : readers[k])
      if (ops_[r].kind == Kind::conv) own_conv_[r] = true;
  }
  // own_fusion: a convolution with a residual that reads a whole concatenation (its packed
  // buffer: a host or a concatenation of its own) runs on the own kernel, z in its epilogue.
  if (own_fusion_)
    for (int r = 1; r < stop_; ++r) {
      if (ops_[r].kind != Kind::conv || residual_[r].add < 0) continue;
      const int in = alias_[ops_[r].inputs[0]];
      if (concat_owner(in) && host_[in] < 0 && ops_[in].channels % 8 == 0 && kernel_takes(r, in)) own_conv_[r] = true;
    }
  if (std::none_of(host_.begin(), host_.end(), [](int h) { return h >= 0; })) return;
  // With dense blocks on the own kernel, the other 3x3 convolutions that read a value's own
  // buffer run there too, with their residuals: RRDN's convolution after the body (the head's
  // output its residual) and the one before depth_to_space (48 outputs, which the kernel runs as
  // 64), instead of cuDNN and an epilogue pass each. Not without hosts: RDN's plans stay split.
  if (own_fusion_)
    for (int r = 1; r < stop_; ++r) {
      const GraphOp& c = ops_[r];
      if (c.kind != Kind::conv || own_conv_[r] || alias_[r] != r) continue;
      const int in = alias_[c.inputs[0]];
      const bool narrow = c.channels == 48 && c.kernel == 3 && c.pad == 1 && ops_[in].channels % 32 == 0;
      if (in != 0 && ops_[in].kind != Kind::concat && (kernel_takes(r, in) || narrow)) own_conv_[r] = true;
    }
  // A growth value that only concatenations read, convolved from a value that is not a
  // concatenation (a block's first growth convolution reads the block's input): the own
  // kernel writes it into its slot too, instead of cuDNN and an epilogue pass.
  for (int r = 1; r < stop_; ++r) {
    if (ops_[r].kind != Kind::conv || alias_[r] != r || own_conv_[r] || ops_[r].channels != 32) continue;
    const int in = alias_[ops_[r].inputs[0]];
    if (ops_[in].kind == Kind::concat || in == 0 || !own_kernel_runs(r, in) || readers[r].empty()) continue;
    if (std::all_of(readers[r].begin(), readers[r].end(), [&](int x) { return ops_[x].kind == Kind::concat; }))
      own_conv_[r] = true;
  }
}

// Split convolutions. conv(cat(v1..vk), W) = sum_j conv(vj, W[:, :, :, slice j]); each value
// is convolved once for all the convolutions that read it through a concatenation (or
// directly, with the same kernel): one part convolution whose outputs are theirs side by
// side. A split convolution then runs no cuDNN call of its own; its epilogue adds its slices
// of the part outputs, the bias and the residual.
void CudnnGraph::plan_split(const std::vector<std::vector<Placement>>& flat) {
  std::map<std::tuple<int, int, int>, int> part_of;  // (value, kernel, pad) -> part
  auto add_reader = [&](int v, int conv, int in_offset) {
    const GraphOp& c = ops_[conv];
    auto [it, fresh] = part_of.try_emplace({v, c.kernel, c.pad}, static_cast<int>(parts_.size()));
    if (fresh) parts_.push_back({v, c.kernel, c.pad, 0, {}});
    PartConv& p = parts_[static_cast<std::size_t>(it->second)];
    sums_[conv].push_back({it->second, p.channels});
    p.readers.push_back({conv, in_offset, p.channels});
    p.channels += c.channels;
  };
  auto inputs_fit = [&](int conv, std::size_t parts) {
    return parts + (residual_[conv].add >= 0 ? 1 : 0) + (residual_[conv].add2 >= 0 ? 1 : 0) <=
           static_cast<std::size_t>(ChannelEpilogue::kMaxInputs);
  };
  for (int c = 1; c < stop_; ++c) {
    if (ops_[c].kind != Kind::conv || alias_[c] != c) continue;
    const int in = alias_[ops_[c].inputs[0]];
    if (ops_[in].kind != Kind::concat || !inputs_fit(c, flat[in].size())) continue;
    for (const Placement& p : flat[in]) add_reader(p.concat, c, p.offset);
  }
  // Convolutions that read a value with a part convolution directly join it (the first
  // growth convolution of a dense block joins its input's).
  for (int c = 1; c < stop_; ++c) {
    if (ops_[c].kind != Kind::conv || alias_[c] != c || !sums_[c].empty()) continue;
    const int v = alias_[ops_[c].inputs[0]];
    if (part_of.count({v, ops_[c].kernel, ops_[c].pad}) && inputs_fit(c, 1)) add_reader(v, c, 0);
  }
  for (int p = 0; p < static_cast<int>(parts_.size()); ++p) {
    const PartConv& part = parts_[static_cast<std::size_t>(p)];
    part_at_[part.leaf].push_back(p);
    int last = part.leaf;
    for (const PartConv::Reader& r : part.readers) last = std::max(last, r.conv);
    part_releases_[last].push_back(p);
  }
}

}  // namespace upscaled::model::cudnn
