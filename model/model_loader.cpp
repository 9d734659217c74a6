#include "model/model_loader.h"

#include "core/error.h"
#include "core/file_extension.h"
#include "core/log.h"
#include "model/classic_upscaler.h"
#include "model/gpu_library_prefetch.h"
#include "model/registry.h"
#ifdef UPSCALED_HAVE_TORCH
#include "model/network_loader.h"
#endif

#include <chrono>
#include <cstdlib>

namespace upscaled::model {

std::filesystem::path default_models_dir() {
  if (const char* dir = std::getenv("UPSCALED_MODELS_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::filesystem::path(xdg) / "upscaled" / "models";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::filesystem::path(home) / ".cache" / "upscaled" / "models";
  return std::filesystem::path("/var/cache/upscaled/models");
}

namespace {
// "" or "default": the registry's default model.
bool names_default_model(const std::string& name) {
  return name.empty() || name == "default";
}
}  // namespace

bool is_classic_model(const std::string& name) {
  return name == "lanczos" || name == "bicubic" || name == "bilinear";
}

std::unique_ptr<Upscaler> load_upscaler(const ModelRequest& request) {
  if (is_classic_model(request.name)) {
    const int scale = request.scale > 0 ? request.scale : 2;
    return std::make_unique<ClassicUpscaler>(kernels::parse_resize_filter(request.name), scale);
  }
  ModelRequest resolved = request;
  std::error_code ec;
  if (!std::filesystem::exists(request.name, ec)) {
    // A registry name: verified against its checksums before any byte is used.
    const std::string name = names_default_model(request.name) ? default_model_name() : request.name;
    const std::filesystem::path dir = request.models_dir.empty() ? default_models_dir() : request.models_dir;
    const ResolvedModel model = resolve_model(name, request.scale, dir);
    resolved.name = model.path.string();
    resolved.scale = model.scale;
  }
#ifdef UPSCALED_HAVE_TORCH
  return load_network_upscaler(resolved);
#else
  throw Error(ErrorCode::model, "model '" + request.name +
                                    "': this build has no libtorch (configured with -DUPSCALED_TORCH=OFF); "
                                    "only lanczos, bicubic and bilinear are available");
#endif
}

int planned_cuda_device(const ModelRequest& request) {
  if (is_classic_model(request.name) || request.device == "cpu") return -1;
#ifdef UPSCALED_HAVE_TORCH
  return network_cuda_device(request);
#else
  return -1;
#endif
}

bool executor_expected(const ModelRequest& request) {
  const char* executor = std::getenv("UPSCALED_NETWORK_EXECUTOR");
  if (executor && std::string(executor) == "eager") return false;
  if (request.precision != "auto" && request.precision != "fp16") return false;
  std::error_code ec;
  const std::filesystem::path path = request.name;
  if (std::filesystem::exists(path, ec)) {
    // As the loader does, the extension is compared without case (MODEL.JSON is a TF.js model).
    return std::filesystem::is_directory(path, ec) || lower_extension(path) == ".json";
  }
  try {
    const Registry registry = load_registry();
    const std::string name = names_default_model(request.name) ? registry.default_model : request.name;
    const RegistryModel* model = registry.find(name);
    return model && model->format == "tfjs-layers";
  } catch (const std::exception&) {
    return false;  // the load reports a broken registry itself
  }
}

DeviceWarmUp::DeviceWarmUp(const ModelRequest& request, std::function<void(int device)> then) : request_(request) {
#ifdef UPSCALED_HAVE_TORCH
  const char* env = std::getenv("UPSCALED_GPU_WARMUP");
  if ((env && std::string(env) == "0") || request.device == "cpu" || is_classic_model(request.name)) return;
  started_ = true;
  thread_ = std::thread([request, then = std::move(then)] {
    const auto start = std::chrono::steady_clock::now();
    try {
      // The fused executor runs every convolution of a TF.js network in float16 (the CUDA default):
      // libtorch's own cuDNN path would only be set up for nothing. UPSCALED_WARMUP_LIBTORCH_CONV
      // = 1 | 0 forces the choice (A/B in docs/gpu-pipeline.md).
      const char* conv = std::getenv("UPSCALED_WARMUP_LIBTORCH_CONV");
      const bool executor_only = conv && *conv ? std::string(conv) == "0" : executor_expected(request);
      const WarmUpPath path = executor_only ? WarmUpPath::executor : WarmUpPath::both;
      int device = -1;
      if (warm_up_network_device(request, path, &device)) {
        log::debug(log::cat("GPU warm-up took ",
                            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                            " s (cuDNN libraries loaded: ", loaded_cudnn_libraries(), ")"));
        if (then) then(device);
      }
    } catch (const std::exception& e) {
      log::debug(log::cat("GPU warm-up failed (the model's first run will report its own error): ", e.what()));
    }
  });
#else
  (void)then;
#endif
}

}  // namespace upscaled::model
