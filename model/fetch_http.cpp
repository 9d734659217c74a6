// HTTP(S) downloads with libcurl (see fetch_detail.h).
#include "core/error.h"
#include "model/fetch_detail.h"

#include <curl/curl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>

namespace upscaled::model::detail {
namespace fs = std::filesystem;

namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// curl_global_init is not thread-safe and must run once before any easy handle.
void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw Error(ErrorCode::model, "libcurl: global init failed");
  });
}

std::size_t write_to_file(char* data, std::size_t size, std::size_t count, void* user) {
  return std::fwrite(data, size, count, static_cast<std::FILE*>(user)) * size;
}

}  // namespace

void http_download(const std::string& url, const fs::path& dest, std::uint64_t max_size) {
  global_init();
  std::unique_ptr<std::FILE, FileCloser> out(std::fopen(dest.c_str(), "wb"));
  if (!out) throw Error(ErrorCode::model, dest.string() + ": cannot create: " + std::strerror(errno));
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) throw Error(ErrorCode::model, "libcurl: curl_easy_init failed");
  char errbuf[CURL_ERROR_SIZE] = {};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_to_file);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, out.get());
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);  // HTTP >= 400 is an error, not a body
  // GitHub release assets redirect to a CDN; stay on http(s) while following.
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  // A stalled transfer (under 1 KiB/s for a minute) fails instead of hanging forever.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "upscaled/0.1 (model fetch)");
  if (max_size > 0) curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_size));

  const CURLcode rc = curl_easy_perform(c);
  const bool flushed = std::fflush(out.get()) == 0;
  if (rc != CURLE_OK) {
    std::string msg = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_FILESIZE_EXCEEDED) msg = "larger than the registry's " + std::to_string(max_size) + " bytes";
    throw Error(ErrorCode::model, url + ": download failed: " + msg);
  }
  if (!flushed) throw Error(ErrorCode::model, dest.string() + ": write failed: " + std::strerror(errno));
}

}  // namespace upscaled::model::detail
