// The minimal unpickler on hand-written pickle programs: the opcodes torch.save emits, the
// tensor records it builds, and corrupt programs failing with a named problem.
#include "model/torch/pickle_reader.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace upscaled::model::torchnet {
namespace {

using Kind = PickleValue::Kind;
using namespace std::string_literals;

PickleRef run(const std::string& program) {
  return unpickle(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(program.data()), program.size()),
                  "test.pth: data.pkl");
}

std::string error_of(const std::string& program) {
  try {
    run(program);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::model);
    return e.what();
  }
  return "(no error)";
}

TEST(PickleReader, DictOfIntsAndStrings) {
  const PickleRef v =
      run("\x80\x02}q\x00(X\x01\x00\x00\x00"
          "aK\x05X\x01\x00\x00\x00"
          "bJ\xff\xff\xff\xff"
          "u."s);
  ASSERT_EQ(v->kind, Kind::dict);
  ASSERT_EQ(v->entries.size(), 2u);
  EXPECT_EQ(v->find("a")->integer, 5);
  EXPECT_EQ(v->find("b")->integer, -1);
  EXPECT_EQ(v->find("c"), nullptr);
}

TEST(PickleReader, Long1AndBinfloat) {
  EXPECT_EQ(run("\x80\x02\x8a\x02\x00\xff."s)->integer, -256);
  EXPECT_EQ(run("\x80\x02\x8a\x03\x00\x00\x01."s)->integer, 65536);
  EXPECT_EQ(run("G\x3f\xf8\x00\x00\x00\x00\x00\x00."s)->floating, 1.5);
}

TEST(PickleReader, RebuildTensorV2GivesStorageView) {
  const std::string program =
      "\x80\x02"
      "ctorch._utils\n_rebuild_tensor_v2\nq\x00"
      "((X\x07\x00\x00\x00storagectorch\nHalfStorage\nX\x01\x00\x00\x00"
      "3X\x03\x00\x00\x00"
      "cpuK\x0ctQ"
      "K\x02K\x02K\x03\x86K\x01K\x02\x86\x89)tR."s;
  const PickleRef v = run(program);
  ASSERT_EQ(v->kind, Kind::tensor);
  EXPECT_EQ(v->tensor.storage_key, "3");
  EXPECT_EQ(v->tensor.storage_type, "HalfStorage");
  EXPECT_EQ(v->tensor.storage_numel, 12);
  EXPECT_EQ(v->tensor.offset, 2);
  EXPECT_EQ(v->tensor.sizes, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(v->tensor.strides, (std::vector<int64_t>{1, 2}));
}

TEST(PickleReader, MemoSharesValues) {
  const PickleRef v = run("\x80\x02X\x01\x00\x00\x00xq\x07h\x07\x86."s);
  ASSERT_EQ(v->kind, Kind::tuple);
  ASSERT_EQ(v->items.size(), 2u);
  EXPECT_EQ(v->items[0], v->items[1]);
  EXPECT_EQ(v->items[0]->text, "x");
}

TEST(PickleReader, OrderedDictWithBuildStateAndOpaqueObjects) {
  const PickleRef d = run("ccollections\nOrderedDict\n)R}b.");
  EXPECT_EQ(d->kind, Kind::dict);
  EXPECT_TRUE(d->entries.empty());
  const PickleRef o = run("cnumpy\nscalar\n)R.");
  EXPECT_EQ(o->kind, Kind::object);
  EXPECT_EQ(o->kind_name(), "object numpy.scalar");
}

TEST(PickleReader, CorruptProgramsFailWithTheProblem) {
  EXPECT_NE(error_of("\x80\x02X\x05\x00\x00\x00"
                     "ab"s)
                .find("test.pth: data.pkl: pickle truncated"),
            std::string::npos);
  EXPECT_NE(error_of("\x80\x02I1\n.").find("unsupported pickle opcode 0x49 at byte 2"), std::string::npos);
  EXPECT_NE(error_of("h\x03.").find("memo entry 3 used before it was stored"), std::string::npos);
  EXPECT_NE(error_of(".").find("STOP with 0 values"), std::string::npos);
  EXPECT_NE(error_of("}s.").find("stack underflow"), std::string::npos);
  EXPECT_NE(error_of("X\x01\x00\x00\x00"
                     "aQ."s)
                .find("persistent id is not a ('storage', ...) tuple"),
            std::string::npos);
  EXPECT_NE(error_of("(K\x01.").find("STOP with"), std::string::npos);
}

}  // namespace
}  // namespace upscaled::model::torchnet
