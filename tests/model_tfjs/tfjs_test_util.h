// Helpers for the TF.js model tests: locating the UpscalerJS packages, reading PNGs through
// the ffmpeg CLI (libavcodec's png decoder) and comparing images. Synchronous; failures
// throw std::runtime_error with the command or file that failed.
#pragma once

#include "model/upscaler.h"
#include "tests/common/temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

namespace upscaled::test {

// $UPSCALED_TEST_MODELS_DIR, else the CMake cache default; nullopt when the package folder
// upscalerjs-esrgan-<size>-1.0.0/package is not there.
std::optional<std::filesystem::path> package_dir(const std::string& size);
// As package_dir, but also nullopt when models/x{scale}/model.json is absent (a partial copy,
// e.g. on a machine where only some models were staged); *why says what is missing.
std::optional<std::filesystem::path> package_with_model(const std::string& size, int scale, std::string* why);
std::string models_dir_hint();

// One packaged model and scale for parameterised tests. gtest names the case "thick_x4"
// (case_name) and prints it into ctest's test names as "thick x4" (PrintTo) instead of the
// struct's bytes, which hold string addresses.
struct PackageCase {
  const char* size;
  int scale;
};
void PrintTo(const PackageCase& c, std::ostream* os);
std::string case_name(const testing::TestParamInfo<PackageCase>& info);

// Upscales the package's assets/fixture.png with its x{scale} model on `device` in
// `precision`, checking the output size; *describe (when given) gets the upscaler's
// describe() line.
model::PlanarImage upscale_fixture(const std::filesystem::path& package, int scale, const std::string& device,
                                   const std::string& precision, std::string* describe = nullptr);

// Decodes any image ffmpeg reads into planar RGB float in [0, 1] (value / 255).
model::PlanarImage read_image(const std::filesystem::path& png);

// PSNR in dB over all samples of equally sized images, after rounding `actual` to 8 bits
// (the published outputs are 8-bit PNGs, so both sides are compared as 8-bit values).
double psnr_u8(const model::PlanarImage& actual, const model::PlanarImage& expected);
// PSNR in dB of two float images without rounding (peak 1.0).
double psnr_float(const model::PlanarImage& a, const model::PlanarImage& b);

// Box-filter downscale by an integer factor (for checks without a published output).
model::PlanarImage box_downscale(const model::PlanarImage& img, int factor);

}  // namespace upscaled::test
