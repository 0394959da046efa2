// Internal to src/model: download progress for the Hub client. A bar redrawn
// in place when stderr is a terminal; otherwise one line when a file starts
// and one when it ends, so logs stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "model/hub.h"

namespace kiln::model::hub::detail {

class Progress {
 public:
  Progress(ProgressStyle style, std::function<void(std::string_view)> log);
  void start(const std::string& file, uint64_t total);
  void update(uint64_t done);
  void finish();
  void notice(const std::string& line);  // a line of its own (ends any bar line first)

 private:
  void draw(bool final);
  void emit(std::string_view line);
  ProgressStyle style_;
  std::function<void(std::string_view)> log_;
  std::string file_;
  uint64_t total_ = 0, done_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool bar_open_ = false;
};

}  // namespace kiln::model::hub::detail
