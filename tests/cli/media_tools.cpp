#include "media_tools.h"

#include "io/av_handles.h"

extern "C" {
#include <libavutil/display.h>
}

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace upscaled::test {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string run_ok(const std::string& command) {
  CommandResult r = run_command(command);
  if (r.exit_code != 0) ADD_FAILURE() << "command failed (" << r.exit_code << "): " << command << "\n" << r.output;
  return r.output;
}

std::filesystem::path make_clip(const TempDir& tmp, const std::string& name, const std::string& args) {
  const auto clip = tmp / name;
  run_ok("ffmpeg -v error -y " + args + " " + shell_quote(clip.string()));
  return clip;
}

bool have_program(const std::string& name) {
  return run_command("command -v " + name).exit_code == 0;
}

std::string upscaled_binary() {
  if (const char* env = std::getenv("UPSCALED_TEST_BINARY")) return env;
  return UPSCALED_BINARY;
}

namespace {

std::string value_of(const std::string& flat, const std::string& key) {
  std::istringstream in(flat);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos && line.substr(0, eq) == key) {
      std::string v = line.substr(eq + 1);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return "";
}

}  // namespace

std::string probe_entries(const std::filesystem::path& file, const std::string& entries) {
  return run_ok("ffprobe -v error -show_entries " + shell_quote(entries) + " -of flat " + shell_quote(file.string()));
}

VideoInfo probe_video(const std::filesystem::path& file) {
  const std::string flat = run_ok(
      "ffprobe -v error -select_streams v:0 -show_entries "
      "stream=width,height,pix_fmt,codec_name,color_space,color_transfer,color_primaries,color_range,sample_aspect_"
      "ratio:stream_side_data=rotation -of flat=s=_ " +
      shell_quote(file.string()));
  VideoInfo v;
  const std::string p = "streams_stream_0_";
  v.width = std::atoi(value_of(flat, p + "width").c_str());
  v.height = std::atoi(value_of(flat, p + "height").c_str());
  v.pix_fmt = value_of(flat, p + "pix_fmt");
  v.codec = value_of(flat, p + "codec_name");
  v.color_space = value_of(flat, p + "color_space");
  v.color_transfer = value_of(flat, p + "color_transfer");
  v.color_primaries = value_of(flat, p + "color_primaries");
  v.color_range = value_of(flat, p + "color_range");
  v.sample_aspect_ratio = value_of(flat, p + "sample_aspect_ratio");
  v.rotation = std::atof(value_of(flat, p + "side_data_list_side_data_0_rotation").c_str());
  return v;
}

double video_psnr(const std::filesystem::path& a, const std::filesystem::path& b) {
  const std::string out = run_ok("ffmpeg -v info -i " + shell_quote(a.string()) + " -i " + shell_quote(b.string()) +
                                 " -lavfi psnr -f null - 2>&1");
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(R"(average:([0-9.]+|inf))"))) return -1;
  return m[1] == "inf" ? 1e9 : std::stod(m[1]);
}

std::filesystem::path slim_x2_model() {
  const char* dir = std::getenv("UPSCALED_TEST_MODELS_DIR");
  if (!dir || !*dir) return {};
  return std::filesystem::path(dir) / "upscalerjs-esrgan-slim-1.0.0/package/models/x2/model.json";
}

std::vector<std::string> frame_times(const std::filesystem::path& file) {
  const std::string out = run_ok("ffprobe -v error -select_streams v:0 -show_entries frame=pts_time -of csv=p=0 " +
                                 shell_quote(file.string()));
  std::vector<std::string> times;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find(','));  // side data adds fields after a comma
    if (!line.empty()) times.push_back(line);
  }
  return times;
}

std::string stream_hash(const std::filesystem::path& file, const std::string& spec) {
  return run_ok("ffmpeg -v error -i " + shell_quote(file.string()) + " -map 0:" + spec +
                " -c copy -f streamhash -hash md5 -");
}

int count_streams(const std::filesystem::path& file, const std::string& type) {
  const std::string out = run_ok("ffprobe -v error -select_streams " + type +
                                 " -show_entries stream=index -of csv=p=0 " + shell_quote(file.string()));
  int n = 0;
  for (char c : out) n += c == '\n';
  return n;
}

void remux_with_rotation(const std::filesystem::path& in, const std::filesystem::path& out, double degrees) {
  AVFormatContext* raw = nullptr;
  if (avformat_open_input(&raw, in.c_str(), nullptr, nullptr) < 0) throw std::runtime_error("open " + in.string());
  io::InputFormatPtr ictx(raw);
  avformat_find_stream_info(ictx.get(), nullptr);
  AVFormatContext* oraw = nullptr;
  avformat_alloc_output_context2(&oraw, nullptr, nullptr, out.c_str());
  io::OutputFormatPtr octx(oraw);
  for (unsigned i = 0; i < ictx->nb_streams; ++i) {
    AVStream* os = avformat_new_stream(octx.get(), nullptr);
    avcodec_parameters_copy(os->codecpar, ictx->streams[i]->codecpar);
    os->codecpar->codec_tag = 0;
    os->time_base = ictx->streams[i]->time_base;
    if (ictx->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
#if LIBAVFORMAT_VERSION_INT >= AV_VERSION_INT(60, 15, 100)
      AVPacketSideData* sd = av_packet_side_data_new(&os->codecpar->coded_side_data, &os->codecpar->nb_coded_side_data,
                                                     AV_PKT_DATA_DISPLAYMATRIX, sizeof(int32_t) * 9, 0);
      av_display_rotation_set(reinterpret_cast<int32_t*>(sd->data), degrees);
#else
      auto* m = reinterpret_cast<int32_t*>(av_stream_new_side_data(os, AV_PKT_DATA_DISPLAYMATRIX, sizeof(int32_t) * 9));
      av_display_rotation_set(m, degrees);
#endif
    }
  }
  if (avio_open(&octx->pb, out.c_str(), AVIO_FLAG_WRITE) < 0) throw std::runtime_error("write " + out.string());
  if (avformat_write_header(octx.get(), nullptr) < 0) throw std::runtime_error("header " + out.string());
  io::PacketPtr pkt = io::make_packet();
  while (av_read_frame(ictx.get(), pkt.get()) >= 0) {
    av_packet_rescale_ts(pkt.get(), ictx->streams[pkt->stream_index]->time_base,
                         octx->streams[pkt->stream_index]->time_base);
    pkt->pos = -1;
    av_interleaved_write_frame(octx.get(), pkt.get());
  }
  av_write_trailer(octx.get());
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace upscaled::test
