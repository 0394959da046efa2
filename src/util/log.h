// Process-wide logging setup. Everything logs through spdlog; `--json-output`
// switches the sink to one JSON object per line.
#pragma once

#include <string>

namespace kiln::util {

struct LogOptions {
  bool json = false;          // one JSON object per line instead of text
  std::string level = "info"; // trace|debug|info|warn|error|off (LOG_LEVEL)
};

void init_logging(const LogOptions& options);

// Escapes a string for inclusion in a JSON log line (without the quotes).
std::string json_escape(const std::string& s);

}  // namespace kiln::util
