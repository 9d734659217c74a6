// Seconds since this process started, for debug lines that split a command's wall time
// into what ran before main (the dynamic loader mapping libtorch and CUDA's libraries),
// the command itself and the exit (docs/gpu-pipeline.md, start-up).
//
// Contract: synchronous, any thread; reads /proc/self/stat (the start time in clock ticks,
// 10 ms on Linux) against CLOCK_BOOTTIME. Returns a negative value where /proc is missing or unreadable;
// never throws.
#pragma once

namespace upscaled {

double seconds_since_process_start() noexcept;

}  // namespace upscaled
