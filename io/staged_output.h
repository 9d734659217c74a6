// An output file that appears at its final name only when complete.
//
// Contract: the constructor picks a hidden temporary name in the staging folder (the
// final folder unless told otherwise; it must be on the same filesystem for the rename to
// be atomic) and checks that the folder is writable. commit() fsyncs the file, renames it
// to the final name — refusing to replace an existing file unless `overwrite` — and
// fsyncs the folder. If commit() was not called or failed, the destructor removes the
// temporary file. Not thread-safe; one owner (write_back_early may be called by the thread
// that writes the file while the owner waits for it).
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

  // Starts the kernel writing what the temporary file holds so far (Linux sync_file_range,
  // SYNC_FILE_RANGE_WRITE: returns without waiting for the disk), so that commit()'s fsync,
  // which the job's end waits for, has little left to write. Durability is commit()'s as
  // before; errors here are ignored (commit's fsync reports them). A no-op until the file
  // exists, after commit(), off Linux, and with UPSCALED_EARLY_WRITEBACK=0.
  void write_back_early();

  // The prefix of every temporary name, so that watchers and cleanup can recognise them.
  static constexpr const char* kTempPrefix = ".upscaled-tmp-";

 private:
  std::filesystem::path final_;
  std::filesystem::path temp_;
  bool overwrite_;
  bool committed_ = false;
  int writeback_fd_ = -1;  // the temporary file, opened by the first write_back_early()
};

}  // namespace upscaled::io
