// OpenSSL EVP digests over streamed files (see sha.h).
#include "model/sha.h"

#include "core/error.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

namespace upscaled::model {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// Incremental digest; the EVP context is freed on every path (RAII).
class Digest {
 public:
  explicit Digest(const EVP_MD* md) : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), md, nullptr) != 1)
      throw std::runtime_error("OpenSSL: EVP_DigestInit_ex failed");
  }
  void update(const void* data, std::size_t size) {
    if (EVP_DigestUpdate(ctx_.get(), data, size) != 1) throw std::runtime_error("OpenSSL: EVP_DigestUpdate failed");
  }
  std::vector<unsigned char> finish() {
    std::vector<unsigned char> out(EVP_MAX_MD_SIZE);
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), out.data(), &len) != 1)
      throw std::runtime_error("OpenSSL: EVP_DigestFinal_ex failed");
    out.resize(len);
    return out;
  }

 private:
  MdCtx ctx_;
};

std::vector<unsigned char> digest_file(const std::filesystem::path& file, const EVP_MD* md) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::model, file.string() + ": cannot open for reading: " + std::strerror(errno));
  Digest digest(md);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.gcount() > 0) digest.update(buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw Error(ErrorCode::model, file.string() + ": read error: " + std::strerror(errno));
  return digest.finish();
}

std::string to_hex(const std::vector<unsigned char>& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0xf]);
  }
  return out;
}

}  // namespace

std::string sha256_file(const std::filesystem::path& file) {
  return to_hex(digest_file(file, EVP_sha256()));
}

std::string sha256_bytes(std::string_view bytes) {
  Digest digest(EVP_sha256());
  digest.update(bytes.data(), bytes.size());
  return to_hex(digest.finish());
}

std::string sha512_integrity_file(const std::filesystem::path& file) {
  const auto raw = digest_file(file, EVP_sha512());
  // EVP_EncodeBlock writes 4 output bytes per 3 input bytes plus a terminating NUL.
  std::vector<unsigned char> b64(4 * ((raw.size() + 2) / 3) + 1);
  const int n = EVP_EncodeBlock(b64.data(), raw.data(), static_cast<int>(raw.size()));
  if (n < 0) throw std::runtime_error("OpenSSL: EVP_EncodeBlock failed");
  return "sha512-" + std::string(reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n));
}

bool is_sha256_hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace upscaled::model
