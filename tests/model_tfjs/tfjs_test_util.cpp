#include "tests/model_tfjs/tfjs_test_util.h"

#include "model/network_loader.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace upscaled::test {

void PrintTo(const PackageCase& c, std::ostream* os) {
  *os << c.size << " x" << c.scale;
}

std::string case_name(const testing::TestParamInfo<PackageCase>& info) {
  return std::string(info.param.size) + "_x" + std::to_string(info.param.scale);
}

model::PlanarImage upscale_fixture(const std::filesystem::path& package, int scale, const std::string& device,
                                   const std::string& precision, std::string* describe) {
  model::ModelRequest request;
  request.name = (package / "models").string();
  request.scale = scale;
  request.device = device;
  request.precision = precision;
  auto upscaler = model::load_network_upscaler(request);
  EXPECT_EQ(upscaler->scale(), scale);
  if (describe) *describe = upscaler->describe();
  const model::PlanarImage fixture = read_image(package / "assets" / "fixture.png");
  std::vector<model::PlanarImage> out(1);
  upscaler->upscale(std::span(&fixture, 1), out);
  EXPECT_EQ(out[0].width, fixture.width * scale);
  EXPECT_EQ(out[0].height, fixture.height * scale);
  return out[0];
}

namespace fs = std::filesystem;

namespace {

fs::path models_root() {
  if (const char* env = std::getenv("UPSCALED_TEST_MODELS_DIR"); env && *env) return env;
  return UPSCALED_TEST_MODELS_DIR_DEFAULT;
}

std::string run_capture(const std::string& cmd) {
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run: " + cmd);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  if (pclose(pipe) != 0) throw std::runtime_error("command failed: " + cmd);
  return out;
}

std::string quoted(const fs::path& p) {
  return "'" + p.string() + "'";
}

}  // namespace

std::optional<fs::path> package_dir(const std::string& size) {
  const fs::path dir = models_root() / ("upscalerjs-esrgan-" + size + "-1.0.0") / "package";
  if (fs::exists(dir / "models")) return dir;
  return std::nullopt;
}

std::optional<fs::path> package_with_model(const std::string& size, int scale, std::string* why) {
  const auto dir = package_dir(size);
  if (!dir) {
    *why = models_dir_hint();
    return std::nullopt;
  }
  const fs::path json = *dir / "models" / ("x" + std::to_string(scale)) / "model.json";
  if (!fs::exists(json)) {
    *why = json.string() + " is not there (partial copy of the package)";
    return std::nullopt;
  }
  return dir;
}

std::string models_dir_hint() {
  return "UpscalerJS packages not found in '" + models_root().string() +
         "': run scripts/fetch-test-models.sh DIR and set UPSCALED_TEST_MODELS_DIR=DIR";
}

model::PlanarImage read_image(const fs::path& png) {
  const std::string dims =
      run_capture("ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0 " + quoted(png));
  int w = 0, h = 0;
  if (std::sscanf(dims.c_str(), "%d,%d", &w, &h) != 2 || w <= 0 || h <= 0)
    throw std::runtime_error("cannot read size of " + png.string());
  TempDir tmp;
  const fs::path raw = tmp.path() / "image.rgb";
  run_capture("ffmpeg -nostdin -v error -y -i " + quoted(png) + " -f rawvideo -pix_fmt rgb24 " + quoted(raw));
  std::ifstream in(raw, std::ios::binary);
  std::vector<unsigned char> bytes(static_cast<size_t>(w) * h * 3);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size())))
    throw std::runtime_error("short raw decode of " + png.string());
  model::PlanarImage img;
  img.resize(w, h);
  for (size_t i = 0; i < static_cast<size_t>(w) * h; ++i)
    for (int c = 0; c < 3; ++c) img.plane(c)[i] = bytes[i * 3 + static_cast<size_t>(c)] / 255.0f;
  return img;
}

double psnr_u8(const model::PlanarImage& actual, const model::PlanarImage& expected) {
  if (actual.width != expected.width || actual.height != expected.height)
    throw std::runtime_error("psnr_u8: image sizes differ");
  double se = 0;
  for (size_t i = 0; i < actual.pixels.size(); ++i) {
    const double a = std::round(std::clamp(actual.pixels[i], 0.0f, 1.0f) * 255.0);
    const double e = std::round(expected.pixels[i] * 255.0);
    se += (a - e) * (a - e);
  }
  const double mse = se / static_cast<double>(actual.pixels.size());
  return mse == 0 ? 200.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

double psnr_float(const model::PlanarImage& a, const model::PlanarImage& b) {
  if (a.width != b.width || a.height != b.height) throw std::runtime_error("psnr_float: image sizes differ");
  double se = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) se += double(a.pixels[i] - b.pixels[i]) * (a.pixels[i] - b.pixels[i]);
  const double mse = se / static_cast<double>(a.pixels.size());
  return mse == 0 ? 200.0 : 10.0 * std::log10(1.0 / mse);
}

model::PlanarImage box_downscale(const model::PlanarImage& img, int factor) {
  model::PlanarImage out;
  out.resize(img.width / factor, img.height / factor);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < out.height; ++y)
      for (int x = 0; x < out.width; ++x) {
        double sum = 0;
        for (int dy = 0; dy < factor; ++dy)
          for (int dx = 0; dx < factor; ++dx)
            sum += img.plane(c)[static_cast<size_t>(y * factor + dy) * img.width + x * factor + dx];
        out.plane(c)[static_cast<size_t>(y) * out.width + x] = static_cast<float>(sum / (factor * factor));
      }
  return out;
}

}  // namespace upscaled::test
