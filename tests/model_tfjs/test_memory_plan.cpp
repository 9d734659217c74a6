// Device memory planning on the GPU (TorchUpscaler::prepare, core/device_memory_ledger.h):
// a memory limit makes the model tile instead of failing, with the same picture; two jobs
// in one process share the limit; and the out-of-memory retry, provoked by capping torch's
// allocator at 0.5 GiB, shrinks the tile and finishes the frame; the caller's own device buffers
// (Upscaler::prepare's io) are added to the reservation. CUDA only: skipped without a GPU.
#include "core/device_memory_ledger.h"
#include "model/network_loader.h"
#include "model/torch/throughput.h"
#include "tests/model_tfjs/tfjs_test_util.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace upscaled::test {
namespace {

constexpr std::size_t MiB = 1024 * 1024;

// A smooth random picture (noise through a box blur), so the network sees texture.
model::PlanarImage test_frame(int width, int height) {
  model::PlanarImage img;
  img.resize(width, height);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (float& v : img.pixels) v = u(rng);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < height; ++y)
      for (int x = 1; x + 1 < width; ++x) {
        float* row = img.plane(c) + static_cast<size_t>(y) * width;
        row[x] = (row[x - 1] + row[x] + row[x + 1]) / 3.f;
      }
  return img;
}

std::unique_ptr<model::Upscaler> load(const std::filesystem::path& package, std::size_t limit, int jobs = 1) {
  model::ModelRequest request;
  request.name = (package / "models").string();
  request.scale = 4;
  request.device = "cuda";
  request.precision = "fp16";
  request.gpu_memory_limit = limit;
  request.gpu_jobs = jobs;
  return model::load_network_upscaler(request);
}

model::PlanarImage upscale(model::Upscaler& upscaler, const model::PlanarImage& in) {
  std::vector<model::PlanarImage> out(1);
  upscaler.upscale(std::span(&in, 1), out);
  return out[0];
}

DeviceMemoryLedger& ledger() {
  // The torch target created the process's ledger with the CUDA probe; this returns it.
  return DeviceMemoryLedger::process([](int) -> std::size_t { return 0; });
}

class MemoryPlanCuda : public testing::Test {
 protected:
  void SetUp() override {
    if (!model::torch_cuda_available()) GTEST_SKIP() << "no CUDA device (libtorch reports none)";
    std::string why;
    auto p = package_with_model("thick", 4, &why);
    if (!p) GTEST_SKIP() << why;
    package = *p;
  }
  std::filesystem::path package;
};

TEST_F(MemoryPlanCuda, ALimitMakesTheModelTileAndTheResultIsTheSame) {
  const auto frame = test_frame(640, 360);
  model::PlanarImage whole;
  {
    auto up = load(package, 0);
    up->prepare(640, 360);
    EXPECT_NE(up->describe().find("whole frames"), std::string::npos) << up->describe();
    whole = upscale(*up, frame);
  }
  EXPECT_EQ(ledger().reserved(0), 0u);  // released with the upscaler
  auto up = load(package, 256 * MiB);
  up->prepare(640, 360);
  const std::string d = up->describe();
  std::cout << "with a 256 MiB limit: " << d << "\n";
  EXPECT_NE(d.find("tile "), std::string::npos) << d;
  EXPECT_LE(ledger().reserved(0), 256 * MiB);
  EXPECT_GT(ledger().reserved(0), 0u);
  const double psnr = psnr_float(upscale(*up, frame), whole);
  std::cout << "tiled under the limit vs whole frame: PSNR " << psnr << " dB\n";
  EXPECT_GE(psnr, 50.0);
}

TEST_F(MemoryPlanCuda, TwoJobsInOneProcessShareTheLimit) {
  const std::size_t limit = 1024 * MiB;
  auto a = load(package, limit, 2);  // like jobs_per_gpu = 2: each asks for half at most
  auto b = load(package, limit, 2);
  a->prepare(1280, 720);
  const std::size_t after_a = ledger().reserved(0);
  b->prepare(1280, 720);
  const std::size_t after_b = ledger().reserved(0);
  std::cout << "job A: " << a->describe() << " (" << format_bytes(after_a) << ")\njob B: " << b->describe() << " ("
            << format_bytes(after_b - after_a) << ")\n";
  EXPECT_LE(after_a, limit / 2);
  EXPECT_GT(after_b, after_a);  // B got memory too
  EXPECT_LE(after_b, ledger().capacity(0));
  EXPECT_LE(after_b, limit);
  // Both still produce the picture.
  const auto frame = test_frame(1280, 720);
  EXPECT_GE(psnr_float(upscale(*a, frame), upscale(*b, frame)), 50.0);
}

TEST_F(MemoryPlanCuda, TheCallersBuffersAreInTheReservation) {
  auto up = load(package, 0);
  up->prepare(640, 360, model::IoDeviceBytes{});  // a caller with no device buffers of its own
  const std::size_t bare = ledger().reserved(0);
  const int batch = up->preferred_batch();
  EXPECT_NE(up->describe().find("whole frames"), std::string::npos) << up->describe();
  up->release_reservation();
  EXPECT_EQ(ledger().reserved(0), 0u);
  const model::IoDeviceBytes io{64 * MiB, 100 * MiB};  // per frame of a batch, once
  up->prepare(640, 360, io);
  EXPECT_EQ(up->preferred_batch(), batch);
  EXPECT_EQ(ledger().reserved(0), bare + 100 * MiB + 64 * MiB * static_cast<std::size_t>(batch));
}

TEST_F(MemoryPlanCuda, OutOfMemoryRetryShrinksTheTileAndFinishes) {
  const auto frame = test_frame(1280, 720);
  model::PlanarImage reference;
  {
    auto up = load(package, 0);
    reference = upscale(*up, frame);
  }
  // The ledger believes the whole GPU is free (it was probed before the cap), so the plan
  // is whole frames; the capped allocator then runs out and the retry must take over.
  ASSERT_TRUE(model::limit_torch_cuda_memory(0.5 * 1024 * MiB / (140.0 * 1024 * MiB), 0));
  auto up = load(package, 0);
  up->prepare(1280, 720);
  EXPECT_NE(up->describe().find("whole frames"), std::string::npos) << up->describe();
  const auto out = upscale(*up, frame);
  std::cout << "after the retry: " << up->describe() << "\n";
  EXPECT_NE(up->describe().find("tile "), std::string::npos) << up->describe();
  EXPECT_GE(psnr_float(out, reference), 50.0);
  model::limit_torch_cuda_memory(1.0, 0);
}

}  // namespace
}  // namespace upscaled::test
