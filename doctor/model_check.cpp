// Model check (doctor/model_check.h).
#include "doctor/model_check.h"

#include "model/registry.h"
#include "model/sha.h"

#include <chrono>
#include <cmath>
#include <filesystem>

namespace upscaled::doctor {

bool model_name_is_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return true;
  const auto ext = std::filesystem::path(name).extension().string();
  return ext == ".pth" || ext == ".pt" || ext == ".safetensors" || ext == ".json";
}

Check model_check(const model::ModelRequest& request) {
  namespace fs = std::filesystem;
  Check c = make_check("model", "model", Status::ok, "");
  c.blocking = true;
  c.details["name"] = request.name;
  c.details["device"] = request.device;
  const bool classic = model::is_classic_model(request.name);
  c.details["classic"] = classic;
  std::string where = "model '" + request.name + "'";

  if (!classic && model_name_is_path(request.name)) {
    const fs::path path(request.name);
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      c.status = Status::fail;
      c.summary = request.name + ": model file does not exist";
      c.action = "fix the model path, or name a registry model (upscaled models list)";
      return c;
    }
    // The digest identifies the exact weights in bug reports and against the registry.
    if (fs::is_regular_file(path, ec)) {
      try {
        const auto digest = model::sha256_file(path);
        c.details["sha256"] = digest;
        c.details["size"] = fs::file_size(path, ec);
        where = request.name + " (sha256 " + digest.substr(0, 12) + "...)";
      } catch (const std::exception& e) {
        c.status = Status::fail;
        c.summary = e.what();
        c.action = "make the model file readable";
        return c;
      }
    }
  }

  if (!classic && !model_name_is_path(request.name)) {
    // A registry name: every file present with the registry's size and sha256.
    try {
      const std::string name = request.name == "default" ? model::default_model_name() : request.name;
      const auto models_dir = request.models_dir.empty() ? model::default_models_dir() : request.models_dir;
      const auto resolved = model::resolve_model(name, request.scale, models_dir);
      c.details["resolved"] = resolved.name;
      c.details["path"] = resolved.path.string();
      c.details["files_verified"] = resolved.files.size();
      where = "model '" + resolved.name + "' x" + std::to_string(resolved.scale) + " (" +
              std::to_string(resolved.files.size()) + " file(s), sha256 verified)";
    } catch (const std::exception& e) {
      c.status = Status::fail;
      c.summary = e.what();
      c.action = "fetch the model (upscaled models fetch NAME), or choose another with --model";
      return c;
    }
  }

  try {
    const auto start = std::chrono::steady_clock::now();
    auto upscaler = model::load_upscaler(request);
    const auto loaded = std::chrono::steady_clock::now();
    // One small frame with a gradient: enough to run every layer once.
    std::vector<model::PlanarImage> in(1), out(1);
    in[0].resize(32, 32);
    for (size_t i = 0; i < in[0].pixels.size(); ++i) in[0].pixels[i] = static_cast<float>(i % 97) / 96.0f;
    upscaler->upscale(in, out);
    const auto ran = std::chrono::steady_clock::now();
    const int s = upscaler->scale();
    c.details["describe"] = upscaler->describe();
    c.details["scale"] = s;
    c.details["load_ms"] = std::chrono::duration<double, std::milli>(loaded - start).count();
    c.details["tile_ms"] = std::chrono::duration<double, std::milli>(ran - loaded).count();
    if (out[0].width != 32 * s || out[0].height != 32 * s ||
        out[0].pixels.size() != static_cast<size_t>(out[0].width) * out[0].height * 3) {
      c.status = Status::fail;
      c.summary = where + ": a 32x32 tile came out " + std::to_string(out[0].width) + "x" +
                  std::to_string(out[0].height) + ", expected " + std::to_string(32 * s) + "x" + std::to_string(32 * s);
      c.action = "the model file does not match its architecture: fetch it again (upscaled models fetch)";
      return c;
    }
    for (float v : out[0].pixels) {
      if (!std::isfinite(v)) {
        c.status = Status::fail;
        c.summary = where + ": a 32x32 tile produced NaN or infinite values on " + request.device;
        c.action = "the weights are corrupt or the precision overflows: fetch the model again or use --precision fp32";
        return c;
      }
    }
    c.summary = where + ": " + upscaler->describe() + ", a 32x32 tile ran (x" + std::to_string(s) + ")";
  } catch (const std::exception& e) {
    c.status = Status::fail;
    c.summary = e.what();
    c.action = "fix or fetch the model again (upscaled models fetch), or choose another with --model";
  }
  return c;
}

}  // namespace upscaled::doctor
