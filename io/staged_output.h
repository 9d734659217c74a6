// An output file that appears at its final name only when complete.
//
// Contract: the constructor picks a hidden temporary name in the staging folder (the
// final folder unless told otherwise; it must be on the same filesystem for the rename to
// be atomic) and checks that the folder is writable. commit() fsyncs the file, renames it
// to the final name — refusing to replace an existing file unless `overwrite` — and
// fsyncs the folder. If commit() was not called or failed, the destructor removes the
// temporary file. Not thread-safe; one owner.
#pragma once

#include <filesystem>

namespace upscaled::io {

class StagedOutput {
 public:
  StagedOutput(const std::filesystem::path& final_path, bool overwrite, const std::filesystem::path& staging_dir = {});
  ~StagedOutput();
  StagedOutput(const StagedOutput&) = delete;
  StagedOutput& operator=(const StagedOutput&) = delete;

  const std::filesystem::path& temp_path() const { return temp_; }
  const std::filesystem::path& final_path() const { return final_; }
  void commit();

  // The prefix of every temporary name, so that watchers and cleanup can recognise them.
  static constexpr const char* kTempPrefix = ".upscaled-tmp-";

 private:
  std::filesystem::path final_;
  std::filesystem::path temp_;
  bool overwrite_;
  bool committed_ = false;
};

}  // namespace upscaled::io
