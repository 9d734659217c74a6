#include "core/process_clock.h"

#include <time.h>
#include <unistd.h>

#include <exception>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace upscaled {

double seconds_since_process_start() noexcept try {
  std::ifstream in("/proc/self/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 > stat.size()) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i)
    if (i == 22) {
      const long ticks = sysconf(_SC_CLK_TCK);
      timespec now{};
      if (ticks <= 0 || clock_gettime(CLOCK_BOOTTIME, &now) != 0) return -1;
      return static_cast<double>(now.tv_sec) + now.tv_nsec * 1e-9 - std::stod(field) / static_cast<double>(ticks);
    }
  return -1;
} catch (const std::exception&) {
  return -1;  // an unreadable or unexpected /proc: a debug line shows -1, nothing fails
}

}  // namespace upscaled
