// A job's options checked before anything is opened (check_job_paths, contract in
// transcode_job.h): the CLI runs them before its startup check, run_transcode again first.
#include "core/error.h"
#include "core/log.h"
#include "pipeline/transcode_job.h"

#include <cmath>
#include <filesystem>
#include <string>
#include <system_error>

namespace upscaled::pipeline {

void check_job_paths(const JobOptions& opt) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(opt.input, ec)) throw Error(ErrorCode::input_missing, quoted(opt.input) + ": no such file");
  if (fs::exists(opt.output, ec) && fs::equivalent(opt.input, opt.output, ec))
    throw Error(ErrorCode::output, quoted(opt.output) + ": output is the input file; refusing to overwrite it");
  if (fs::absolute(opt.input).lexically_normal() == fs::absolute(opt.output).lexically_normal())
    throw Error(ErrorCode::output, quoted(opt.output) + ": output is the input file; refusing to overwrite it");
  if (opt.output.filename().empty() || fs::is_directory(opt.output, ec))
    throw Error(ErrorCode::output, quoted(opt.output) + ": output must be a file name, not a folder");
  if (!opt.overwrite && fs::exists(fs::symlink_status(opt.output, ec)))
    throw Error(ErrorCode::output, quoted(opt.output) + ": already exists (use --overwrite to replace it)");
  const GeometryOptions& g = opt.geometry;
  if (g.size && (g.size->first < 2 || g.size->second < 2 || g.size->first > 16384 || g.size->second > 16384))
    throw Error(ErrorCode::usage, "--size must be between 2x2 and 16384x16384");
  if (g.size && g.outscale > 0) throw Error(ErrorCode::usage, "--outscale and --size exclude each other; give one");
  if (g.outscale < 0 || (g.outscale > 0 && g.outscale > 16) || std::isnan(g.outscale))
    throw Error(ErrorCode::usage, log::cat("--outscale ", g.outscale, ": expected a factor above 0 and at most 16"));
  if (g.fit != Fit::stretch && !g.size) throw Error(ErrorCode::usage, "--fit needs --size WxH");
  if (opt.skip_duplicates < 0 || opt.skip_duplicates >= 1 || std::isnan(opt.skip_duplicates))
    throw Error(ErrorCode::usage, log::cat("--skip-duplicates ", opt.skip_duplicates,
                                           ": expected a mean luma difference above 0 and below 1"));
}

}  // namespace upscaled::pipeline
