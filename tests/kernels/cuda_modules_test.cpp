// kernels/cuda_modules.h: every CUDA module of the library loads ahead of the first launch,
// and the driver then reports each of its kernels loaded. Skipped without a usable GPU.
#include "kernels/cuda_modules.h"
#include "kernels/backend.h"

#include <gtest/gtest.h>

#ifdef UPSCALED_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace upscaled::kernels::test {
namespace {

#ifdef UPSCALED_WITH_CUDA

TEST(CudaModules, EveryKernelOfTheLibraryLoadsAheadOfItsFirstLaunch) {
  if (!cuda_usable()) GTEST_SKIP() << "CUDA backend not usable: " << cuda_status();
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  const ModuleLoadResult r = load_cuda_kernels();
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.modules, 6);  // from_rgb, to_rgb, grayscale, resize, resize_periodic, resize_sliding
  EXPECT_GT(r.found, 20);   // their template instantiations: far more than one per file
  EXPECT_EQ(r.functions, r.found);
  // Loading again finds the same kernels, all loaded.
  const ModuleLoadResult again = load_cuda_kernels();
  EXPECT_EQ(again.error, "");
  EXPECT_EQ(again.found, r.found);
  EXPECT_EQ(again.functions, r.found);
}

#else

TEST(CudaModules, ABuildWithoutCudaSaysSo) {
  const ModuleLoadResult r = load_cuda_kernels();
  EXPECT_EQ(r.modules, 0);
  EXPECT_EQ(r.functions, 0);
  EXPECT_NE(r.error.find("no CUDA"), std::string::npos) << r.error;
}

#endif

}  // namespace
}  // namespace upscaled::kernels::test
