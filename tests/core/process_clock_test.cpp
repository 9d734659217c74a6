// seconds_since_process_start(): the debug lines that split a command's wall time rely on it
// reading this process's own start from /proc, not the boot or the epoch.
#include "core/process_clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace upscaled {
namespace {

TEST(ProcessClock, CountsFromThisProcessStart) {
  const double a = seconds_since_process_start();
  // A test binary has run for more than nothing and (on any sane CI) less than an hour.
  ASSERT_GE(a, 0.0);
  EXPECT_LT(a, 3600.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const double b = seconds_since_process_start();
  // The start time is the same number both times (clock ticks from /proc): the difference
  // is the time slept.
  EXPECT_GE(b - a, 0.029);
  EXPECT_LT(b - a, 5.0);
}

}  // namespace
}  // namespace upscaled
