// Models kept loaded between jobs (model/upscaler_cache.h): the cache's rules with a fake
// loader, then two real jobs through run_transcode (CPU, bicubic) where the second borrows the
// first one's model, and a failing job that drops it.
#include "model/upscaler_cache.h"
#include "pipeline/transcode_job.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <latch>
#include <mutex>
#include <set>
#include <thread>

namespace upscaled::service {
namespace {

using namespace test;

class FakeModel final : public model::Upscaler {
 public:
  explicit FakeModel(std::atomic<int>& releases) : releases_(releases) {}
  int scale() const override { return 2; }
  std::string describe() const override { return "fake"; }
  void upscale(std::span<const model::PlanarImage>, std::span<model::PlanarImage>) override {}
  void release_reservation() override { ++releases_; }

 private:
  std::atomic<int>& releases_;
};

struct Counting {
  std::atomic<int> loads{0}, releases{0};
  model::UpscalerCache::Loader loader() {
    return [this](const model::ModelRequest&) {
      ++loads;
      return std::make_unique<FakeModel>(releases);
    };
  }
};

model::ModelRequest request(const std::string& name, const std::string& device = "cpu") {
  model::ModelRequest r;
  r.name = name;
  r.device = device;
  return r;
}

TEST(UpscalerCache, ReusesAModelOnlyForAnEqualRequestAndOnlyAfterKeep) {
  Counting c;
  model::UpscalerCache cache(4, c.loader());
  model::Upscaler* first = nullptr;
  {
    auto lease = cache.borrow(request("a"));
    EXPECT_FALSE(lease.reused());
    first = &lease.get();
    lease.keep();
  }
  EXPECT_EQ(cache.idle(), 1u);
  EXPECT_EQ(c.releases, 1) << "a model given back holds no reservation";
  EXPECT_TRUE(cache.has_idle(request("a")));
  EXPECT_FALSE(cache.has_idle(request("a", "cuda:1")));
  {
    auto lease = cache.borrow(request("a"));
    EXPECT_TRUE(lease.reused());
    EXPECT_EQ(&lease.get(), first);
    // No keep(): the job failed, the model is dropped.
  }
  EXPECT_EQ(cache.idle(), 0u);
  {
    auto lease = cache.borrow(request("a"));
    EXPECT_FALSE(lease.reused());
  }
  EXPECT_EQ(c.loads, 2);
  auto other = cache.borrow(request("b"));
  EXPECT_FALSE(other.reused());
  EXPECT_EQ(c.loads, 3);
}

TEST(UpscalerCache, KeepsAtMostMaxIdleAndDropsTheLeastRecentlyUsed) {
  Counting c;
  model::UpscalerCache cache(2, c.loader());
  for (const char* name : {"a", "b", "c"}) {
    auto lease = cache.borrow(request(name));
    lease.keep();
  }
  EXPECT_EQ(cache.idle(), 2u);
  EXPECT_FALSE(cache.has_idle(request("a")));
  EXPECT_TRUE(cache.has_idle(request("b")));
  EXPECT_TRUE(cache.has_idle(request("c")));
  cache.clear();
  EXPECT_EQ(cache.idle(), 0u);
  model::UpscalerCache none(0, c.loader());  // max_idle 0: nothing is ever kept
  {
    auto lease = none.borrow(request("a"));
    lease.keep();
  }
  EXPECT_EQ(none.idle(), 0u);
}

// Four jobs hold their leases at the same moment (a latch, not timing): four models.
TEST(UpscalerCache, JobsAtTheSameTimeGetModelsOfTheirOwn) {
  Counting c;
  model::UpscalerCache cache(8, c.loader());
  std::mutex m;
  std::set<model::Upscaler*> seen;
  std::latch all_holding(4);
  std::vector<std::thread> jobs;
  for (int i = 0; i < 4; ++i)
    jobs.emplace_back([&] {
      auto lease = cache.borrow(request("a"));
      {
        std::lock_guard lock(m);
        EXPECT_TRUE(seen.insert(&lease.get()).second) << "one model lent to two jobs at once";
      }
      all_holding.arrive_and_wait();
      lease.keep();
    });
  for (auto& t : jobs) t.join();
  EXPECT_GE(c.loads, 2);
  EXPECT_EQ(c.loads, 4);
  EXPECT_EQ(cache.idle(), static_cast<std::size_t>(c.loads.load()));
}

TEST(ModelReuse, ASecondJobBorrowsTheFirstJobsModelAndAFailedJobDropsIt) {
  TempDir dir;
  write_file(dir / "in.y4m", y4m_clip(48, 32, 6, 7));
  model::UpscalerCache cache;
  pipeline::JobOptions o;
  o.input = dir / "in.y4m";
  o.model.name = "bicubic";
  o.model.scale = 2;
  o.model.device = "cpu";
  o.preset = "ultrafast";
  o.models = &cache;
  o.output = dir / "a.mkv";
  const pipeline::JobResult first = pipeline::run_transcode(o);
  EXPECT_FALSE(first.model_reused);
  EXPECT_EQ(cache.idle(), 1u);
  o.output = dir / "b.mkv";
  const pipeline::JobResult second = pipeline::run_transcode(o);
  EXPECT_TRUE(second.model_reused);
  EXPECT_EQ(second.frames, first.frames);
  EXPECT_EQ(second.frames, 6);
  EXPECT_GT(std::filesystem::file_size(dir / "a.mkv"), 0u);
  EXPECT_NE(pipeline::format_stage_stats(second).find("model kept loaded"), std::string::npos);

  // A job that fails after borrowing (no frame in the input) does not give the model back.
  write_file(dir / "empty.y4m", "YUV4MPEG2 W48 H32 F25:1 Ip A1:1 C420jpeg\n");
  o.input = dir / "empty.y4m";
  o.output = dir / "c.mkv";
  EXPECT_THROW(pipeline::run_transcode(o), std::exception);
  EXPECT_EQ(cache.idle(), 0u);
  EXPECT_FALSE(std::filesystem::exists(o.output));
}

}  // namespace
}  // namespace upscaled::service
