// Small state files (caches) written so that readers never see a partial file.
//
// Contract: replace_file() creates the file's folder when missing, writes `text` to a
// temporary name beside the file (with this process's id) and renames it over the file;
// concurrent writers each land whole, the last rename wins. Returns false, without throwing
// and without leaving the temporary file, when the folder cannot be created or written.
// Synchronous; no fsync (losing the file in a crash only costs a later run its cache).
#pragma once

#include <filesystem>
#include <string_view>

namespace upscaled {

bool replace_file(const std::filesystem::path& file, std::string_view text);

}  // namespace upscaled
