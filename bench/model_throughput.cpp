// bench_model_throughput: model-only throughput (Network::forward on device-resident input,
// no host copies) of one network at several input sizes; prints a table and writes JSON.
//
// Usage: bench_model_throughput --model PATH [--scale S] [--device auto|cpu|cuda]
//          [--precision auto|fp32|fp16|bf16] [--sizes 640x360,1280x720] [--batch 1]
//          [--warmup 3] [--iterations 20] [--peak-tflops 989] [--json out.json]
// PATH is a model file or folder as `upscaled --model` takes (for UpscalerJS: the package's
// models/ folder plus --scale). TFLOP/s = 2 * multiply-adds per input pixel (read from the
// network's convolutions; 7,256,016 for esrgan-thick x4) * pixels / time.
#include "model/torch/throughput.h"

#include "core/error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

struct Options {
  upscaled::model::ModelRequest request;
  std::vector<std::pair<int, int>> sizes{{640, 360}, {1280, 720}};
  int warmup = 3, iterations = 20;
  double peak_tflops = 989.0;  // H200/H100 SXM dense fp16 tensor peak
  std::string json;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "bench_model_throughput: " << why
            << "\nusage: bench_model_throughput --model PATH [--scale S] [--device auto|cpu|cuda] "
               "[--precision auto|fp32|fp16|bf16] [--sizes WxH,...] [--batch N] [--warmup N] [--iterations N] "
               "[--peak-tflops T] [--json FILE]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  o.request.name.clear();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage("missing value after " + a);
      return argv[++i];
    };
    if (a == "--model")
      o.request.name = next();
    else if (a == "--scale")
      o.request.scale = std::stoi(next());
    else if (a == "--device")
      o.request.device = next();
    else if (a == "--precision")
      o.request.precision = next();
    else if (a == "--batch")
      o.request.batch = std::stoi(next());
    else if (a == "--warmup")
      o.warmup = std::stoi(next());
    else if (a == "--iterations")
      o.iterations = std::stoi(next());
    else if (a == "--peak-tflops")
      o.peak_tflops = std::stod(next());
    else if (a == "--json")
      o.json = next();
    else if (a == "--sizes") {
      o.sizes.clear();
      std::string list = next();
      for (size_t pos = 0; pos < list.size();) {
        const size_t end = std::min(list.find(',', pos), list.size());
        int w = 0, h = 0;
        if (std::sscanf(list.substr(pos, end - pos).c_str(), "%dx%d", &w, &h) != 2 || w <= 0 || h <= 0)
          usage("bad size in --sizes: " + list);
        o.sizes.emplace_back(w, h);
        pos = end + 1;
      }
    } else
      usage("unknown argument " + a);
  }
  if (o.request.name.empty()) usage("--model is required");
  if (o.iterations < 1) usage("--iterations must be at least 1");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  nlohmann::json runs = nlohmann::json::array();
  try {
    std::printf("%-10s %-8s %-5s %6s %12s %10s %10s %8s\n", "input", "device", "prec", "batch", "ms/frame", "frames/s",
                "TFLOP/s", "%peak");
    std::string network;
    for (const auto& [w, h] : o.sizes) {
      const auto r = upscaled::model::measure_network_throughput(o.request, w, h, o.warmup, o.iterations);
      network = r.network;
      const double fps = 1000.0 / r.median_ms_per_frame;
      const double tflops = 2.0 * r.multiply_adds_per_input_pixel * w * h * fps / 1e12;
      const bool gpu = r.device != "cpu";
      std::printf("%-10s %-8s %-5s %6d %12.2f %10.2f %10.3f %8s\n",
                  (std::to_string(w) + "x" + std::to_string(h)).c_str(), r.device.c_str(), r.precision.c_str(), r.batch,
                  r.median_ms_per_frame, fps, tflops,
                  gpu ? (std::to_string(100.0 * tflops / o.peak_tflops).substr(0, 5) + "%").c_str() : "-");
      runs.push_back({{"width", w},
                      {"height", h},
                      {"device", r.device},
                      {"precision", r.precision},
                      {"batch", r.batch},
                      {"scale", r.scale},
                      {"warmup", o.warmup},
                      {"iterations", o.iterations},
                      {"ms_per_batch", r.ms_per_batch},
                      {"median_ms_per_frame", r.median_ms_per_frame},
                      {"frames_per_s", fps},
                      {"multiply_adds_per_input_pixel", r.multiply_adds_per_input_pixel},
                      {"achieved_tflops", tflops},
                      {"peak_tflops", gpu ? nlohmann::json(o.peak_tflops) : nlohmann::json(nullptr)}});
    }
    std::printf("network: %s\n", network.c_str());
    if (!o.json.empty()) {
      std::ofstream out(o.json);
      out << nlohmann::json{{"benchmark", "model_throughput"},
                            {"model", o.request.name},
                            {"network", network},
                            {"runs", runs}}
                 .dump(2)
          << "\n";
      if (!out) throw upscaled::Error(upscaled::ErrorCode::output, o.json + ": cannot write JSON");
    }
  } catch (const upscaled::Error& e) {
    std::cerr << "bench_model_throughput: " << e.what() << "\n";
    return static_cast<int>(e.code());
  }
  return 0;
}
