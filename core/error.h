// Errors that cross the engine, and the exit codes they map to.
//
// Contract: engine code throws upscaled::Error (or anything derived from std::exception);
// the job boundary (app/, service/) catches, records and maps it to an exit code. The
// message is one line that names the file and the problem.
#pragma once

#include <stdexcept>
#include <string>

namespace upscaled {

// Documented in docs/exit-codes.md; keep the two in step.
enum class ErrorCode : int {
  ok = 0,
  internal = 1,       // a bug or an unclassified failure
  usage = 2,          // bad command line or configuration
  input_missing = 3,  // input does not exist or cannot be read
  input_invalid = 4,  // empty, truncated, not media, no video stream, unsupported codec
  output = 5,         // output exists, same as input, folder unwritable, disk full
  model = 6,          // model file missing, corrupt, wrong checksum or architecture
  gpu_required = 7,   // --require-gpu and a stage would fall back to the CPU
  device = 8,         // GPU error (out of memory after retries, driver error)
  no_space = 9,       // the output filesystem is full (ENOSPC/EDQUOT): retry later
  cancelled = 130,    // interrupted by SIGINT/SIGTERM
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }
  // True for errors that may pass on retry without the input changing (service backoff).
  bool transient() const noexcept { return code_ == ErrorCode::device || code_ == ErrorCode::no_space; }

 private:
  ErrorCode code_;
};

// Thrown inside stages when the pipeline was cancelled; never reported as a failure.
class Cancelled : public Error {
 public:
  Cancelled() : Error(ErrorCode::cancelled, "cancelled") {}
};

const char* error_code_name(ErrorCode code);

// A file (or other name) as error messages show it: in single quotes.
inline std::string quoted(const std::string& name) {
  return "'" + name + "'";
}

}  // namespace upscaled
