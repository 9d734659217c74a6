// Project-wide logging interface.
//
// Contract: thread-safe, synchronous (a call returns after the line is written to stderr).
// Deliberately free of spdlog/fmt types: code in targets that link libtorch 2.x sees
// torch's bundled fmt first, and spdlog does not compile there. Build messages with
// log::cat(...) or std::string and pass them in.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace upscaled::log {

enum class Level { trace, debug, info, warn, error, off };

// Accepts trace, debug, info, warn(ing), error, off; throws std::invalid_argument otherwise.
Level parse_level(std::string_view name);
void set_level(Level level);
Level level();
bool enabled(Level level);

void write(Level level, std::string_view message);

inline void trace(std::string_view m) {
  write(Level::trace, m);
}
inline void debug(std::string_view m) {
  write(Level::debug, m);
}
inline void info(std::string_view m) {
  write(Level::info, m);
}
inline void warn(std::string_view m) {
  write(Level::warn, m);
}
inline void error(std::string_view m) {
  write(Level::error, m);
}

// Concatenates anything that has an operator<<, e.g. log::info(log::cat("fps ", fps)).
template <typename... Args>
std::string cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

}  // namespace upscaled::log
