// File digests for model verification (OpenSSL EVP): sha256 as lowercase hex, and the
// sha512 "Subresource Integrity" string npm publishes for package tarballs.
//
// Contract: synchronous, thread-safe (no shared state). Files are streamed in 1 MiB
// blocks, so memory use does not grow with the file. Throws upscaled::Error(ErrorCode::model)
// naming the file when it cannot be opened or read; std::runtime_error on an OpenSSL failure.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace upscaled::model {

// 64 lowercase hex characters.
std::string sha256_file(const std::filesystem::path& file);
std::string sha256_bytes(std::string_view bytes);

// "sha512-" + base64 of the 64-byte digest, the form of npm's dist.integrity.
std::string sha512_integrity_file(const std::filesystem::path& file);

// True for exactly 64 lowercase hex characters.
bool is_sha256_hex(std::string_view text);

}  // namespace upscaled::model
