// The pickle virtual machine for torch.save's subset; see pickle_reader.h for the contract.
#include "model/torch/pickle_reader.h"

#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "core/error.h"

namespace upscaled::model::torchnet {

std::string PickleValue::kind_name() const {
  switch (kind) {
    case Kind::none:
      return "None";
    case Kind::boolean:
      return "bool";
    case Kind::integer:
      return "int";
    case Kind::floating:
      return "float";
    case Kind::string:
      return "string";
    case Kind::tuple:
      return "tuple";
    case Kind::list:
      return "list";
    case Kind::dict:
      return "dict";
    case Kind::global:
      return "global " + text;
    case Kind::storage:
      return "storage";
    case Kind::tensor:
      return "tensor";
    case Kind::object:
      return "object " + text;
  }
  return "?";
}

PickleRef PickleValue::find(const std::string& key) const {
  for (const auto& [k, v] : entries) {
    if (k->kind == Kind::string && k->text == key) return v;
  }
  return nullptr;
}

namespace {

using Kind = PickleValue::Kind;

PickleRef make(Kind kind) {
  auto v = std::make_shared<PickleValue>();
  v->kind = kind;
  return v;
}

class Machine {
 public:
  Machine(std::span<const uint8_t> data, const std::string& what) : data_(data), what_(what) {}

  PickleRef run() {
    while (true) {
      const size_t at = pos_;
      const uint8_t op = byte();
      if (op == '.') {  // STOP
        if (stack_.size() != 1 || !marks_.empty()) fail("STOP with " + std::to_string(stack_.size()) + " values");
        return stack_.back();
      }
      step(op, at);
    }
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(ErrorCode::model, what_ + ": " + problem + " (not a torch.save state dict, or corrupt)");
  }

  const uint8_t* take(size_t n) {
    if (n > data_.size() - pos_) fail("pickle truncated at byte " + std::to_string(pos_));
    const uint8_t* p = data_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint8_t byte() { return *take(1); }
  uint64_t little(size_t n) {
    const uint8_t* p = take(n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return v;
  }
  std::string chars(uint64_t n) {
    if (n > data_.size()) fail("string length " + std::to_string(n) + " past the end");
    const uint8_t* p = take(static_cast<size_t>(n));
    return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
  }
  std::string line() {
    std::string s;
    while (true) {
      const char c = static_cast<char>(byte());
      if (c == '\n') return s;
      s.push_back(c);
    }
  }

  PickleRef pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("stack underflow");
    PickleRef v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  PickleRef& top() {
    if (stack_.empty()) fail("stack underflow");
    return stack_.back();
  }
  // Values pushed since the last MARK, removing them and the mark.
  std::vector<PickleRef> pop_mark() {
    if (marks_.empty()) fail("missing MARK");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PickleRef> out(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(m)),
                               std::make_move_iterator(stack_.end()));
    stack_.resize(m);
    return out;
  }
  void push(PickleRef v) { stack_.push_back(std::move(v)); }
  void push_int(int64_t i) {
    auto v = make(Kind::integer);
    v->integer = i;
    push(std::move(v));
  }
  void push_string(std::string s) {
    auto v = make(Kind::string);
    v->text = std::move(s);
    push(std::move(v));
  }
  void push_tuple(std::vector<PickleRef> items) {
    auto v = make(Kind::tuple);
    v->items = std::move(items);
    push(std::move(v));
  }
  void memo_put(uint64_t index) { memo_[index] = top(); }
  void memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " used before it was stored");
    push(it->second);
  }
  void set_items(PickleRef& dict, std::vector<PickleRef>& kv) {
    if (dict->kind != Kind::dict) fail("SETITEM(S) on a " + dict->kind_name());
    if (kv.size() % 2 != 0) fail("odd number of values for SETITEMS");
    for (size_t i = 0; i < kv.size(); i += 2) dict->entries.emplace_back(kv[i], kv[i + 1]);
  }

  static std::vector<int64_t> ints(const PickleValue& tuple, const char* what, const Machine& m) {
    if (tuple.kind != Kind::tuple) m.fail(std::string(what) + " is a " + tuple.kind_name() + ", not a tuple");
    std::vector<int64_t> out;
    for (const auto& item : tuple.items) {
      if (item->kind != Kind::integer) m.fail(std::string(what) + " holds a " + item->kind_name());
      out.push_back(item->integer);
    }
    return out;
  }

  // REDUCE / NEWOBJ: call `callable` with `args`. Only the constructors torch.save uses mean
  // anything; other objects are kept opaque so that unrelated checkpoint entries do not fail.
  PickleRef call(const PickleValue& callable, const PickleValue& args) {
    if (callable.kind != Kind::global) fail("REDUCE on a " + callable.kind_name());
    if (args.kind != Kind::tuple) fail("REDUCE arguments are a " + args.kind_name());
    const std::string& name = callable.text;
    if (name == "collections.OrderedDict" || name == "builtins.dict") return make(Kind::dict);
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      if (args.items.size() < 4 || args.items[0]->kind != Kind::storage || args.items[1]->kind != Kind::integer)
        fail(name + " with unexpected arguments");
      auto t = make(Kind::tensor);
      t->tensor = args.items[0]->tensor;
      t->tensor.offset = args.items[1]->integer;
      t->tensor.sizes = ints(*args.items[2], "tensor size", *this);
      t->tensor.strides = ints(*args.items[3], "tensor stride", *this);
      if (t->tensor.sizes.size() != t->tensor.strides.size()) fail("tensor size and stride of different rank");
      return t;
    }
    if (name == "torch._utils._rebuild_parameter") {  // Parameter(data, requires_grad, hooks)
      if (args.items.empty() || args.items[0]->kind != Kind::tensor) fail(name + " without a tensor");
      return args.items[0];
    }
    auto obj = make(Kind::object);
    obj->text = name;
    return obj;
  }

  // BINPERSID: torch.save's persistent id ('storage', torch.<T>Storage, key, location, numel).
  PickleRef storage(const PickleValue& pid) {
    if (pid.kind != Kind::tuple || pid.items.size() < 5 || pid.items[0]->kind != Kind::string ||
        pid.items[0]->text != "storage")
      fail("persistent id is not a ('storage', ...) tuple");
    const PickleValue& type = *pid.items[1];
    if (type.kind != Kind::global || type.text.rfind("torch.", 0) != 0) fail("storage type " + type.kind_name());
    if (pid.items[2]->kind != Kind::string || pid.items[4]->kind != Kind::integer || pid.items[4]->integer < 0)
      fail("malformed storage persistent id");
    auto s = make(Kind::storage);
    s->tensor.storage_type = type.text.substr(6);
    s->tensor.storage_key = pid.items[2]->text;
    s->tensor.storage_numel = pid.items[4]->integer;
    return s;
  }

  void step(uint8_t op, size_t at) {
    switch (op) {
      case 0x80:
        byte();
        break;  // PROTO
      case 0x95:
        little(8);
        break;  // FRAME: framing only
      case '(':
        marks_.push_back(stack_.size());
        break;
      case '}':
        push(make(Kind::dict));
        break;
      case ']':
        push(make(Kind::list));
        break;
      case ')':
        push_tuple({});
        break;
      case 'N':
        push(make(Kind::none));
        break;
      case 0x88:
      case 0x89: {  // NEWTRUE / NEWFALSE
        auto v = make(Kind::boolean);
        v->boolean = op == 0x88;
        push(std::move(v));
        break;
      }
      case 'K':
        push_int(static_cast<int64_t>(little(1)));
        break;  // BININT1
      case 'M':
        push_int(static_cast<int64_t>(little(2)));
        break;  // BININT2
      case 'J':
        push_int(static_cast<int32_t>(static_cast<uint32_t>(little(4))));
        break;      // BININT
      case 0x8a: {  // LONG1: n-byte little-endian two's complement
        const size_t n = byte();
        if (n > 8) fail("integer of " + std::to_string(n) + " bytes");
        uint64_t v = n ? little(n) : 0;
        if (n && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);
        push_int(static_cast<int64_t>(v));
        break;
      }
      case 'G': {  // BINFLOAT: big-endian IEEE double
        const uint8_t* p = take(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];
        auto v = make(Kind::floating);
        std::memcpy(&v->floating, &bits, sizeof bits);
        push(std::move(v));
        break;
      }
      case 'X':
        push_string(chars(little(4)));
        break;  // BINUNICODE
      case 0x8c:
        push_string(chars(little(1)));
        break;  // SHORT_BINUNICODE
      case 0x8d:
        push_string(chars(little(8)));
        break;   // BINUNICODE8
      case 'T':  // BINSTRING
      case 'B':
        push_string(chars(little(4)));
        break;   // BINBYTES
      case 'U':  // SHORT_BINSTRING
      case 'C':
        push_string(chars(little(1)));
        break;     // SHORT_BINBYTES
      case 'c': {  // GLOBAL "module\nname\n"
        auto g = make(Kind::global);
        g->text = line();
        g->text += "." + line();
        push(std::move(g));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        PickleRef name = pop(), module = pop();
        if (name->kind != Kind::string || module->kind != Kind::string) fail("STACK_GLOBAL of non-strings");
        auto g = make(Kind::global);
        g->text = module->text + "." + name->text;
        push(std::move(g));
        break;
      }
      case 'Q':
        push(storage(*pop()));
        break;  // BINPERSID
      case 't':
        push_tuple(pop_mark());
        break;
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        std::vector<PickleRef> items(static_cast<size_t>(op - 0x84));
        for (size_t i = items.size(); i-- > 0;) items[i] = pop();
        push_tuple(std::move(items));
        break;
      }
      case 'R':
      case 0x81: {  // REDUCE / NEWOBJ
        PickleRef args = pop(), callable = pop();
        push(call(*callable, *args));
        break;
      }
      case 's': {  // SETITEM
        std::vector<PickleRef> kv(2);
        kv[1] = pop();
        kv[0] = pop();
        set_items(top(), kv);
        break;
      }
      case 'u': {  // SETITEMS
        std::vector<PickleRef> kv = pop_mark();
        set_items(top(), kv);
        break;
      }
      case 'a': {  // APPEND
        PickleRef v = pop();
        if (top()->kind != Kind::list) fail("APPEND to a " + top()->kind_name());
        top()->items.push_back(std::move(v));
        break;
      }
      case 'e': {  // APPENDS
        std::vector<PickleRef> vs = pop_mark();
        if (top()->kind != Kind::list) fail("APPENDS to a " + top()->kind_name());
        for (auto& v : vs) top()->items.push_back(std::move(v));
        break;
      }
      case 'b':
        pop();
        break;  // BUILD: object state (e.g. a state dict's _metadata) is not needed
      case '0':
        pop();
        break;  // POP
      case '1':
        pop_mark();
        break;  // POP_MARK
      case '2':
        push(top());
        break;  // DUP
      case 'q':
        memo_put(little(1));
        break;  // BINPUT
      case 'r':
        memo_put(little(4));
        break;  // LONG_BINPUT
      case 0x94:
        memo_put(memo_.size());
        break;  // MEMOIZE
      case 'h':
        memo_get(little(1));
        break;  // BINGET
      case 'j':
        memo_get(little(4));
        break;  // LONG_BINGET
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op);
        fail(std::string("unsupported pickle opcode ") + hex + " at byte " + std::to_string(at));
      }
    }
  }

  std::span<const uint8_t> data_;
  const std::string& what_;
  size_t pos_ = 0;
  std::vector<PickleRef> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PickleRef> memo_;
};

}  // namespace

PickleRef unpickle(std::span<const uint8_t> data, const std::string& what) {
  return Machine(data, what).run();
}

}  // namespace upscaled::model::torchnet
