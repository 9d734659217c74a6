// Reads the float32 C-order .npy files that scripts/gen_pth_fixtures.py writes with
// numpy.save. Test helper: throws std::runtime_error on anything else.
#pragma once

#include <torch/torch.h>

#include <filesystem>

namespace upscaled::test {

torch::Tensor read_npy_float32(const std::filesystem::path& path);

// The fixture folder tests/fixtures/realesrgan in the source tree.
std::filesystem::path realesrgan_fixture(const std::string& name);

// max |a - b| / max |reference|: the relative error the format tests bound by 1e-4.
double relative_max_error(const torch::Tensor& out, const torch::Tensor& reference);

}  // namespace upscaled::test
