#include "model/hub_progress.h"

#include <unistd.h>

#include <cstdio>

namespace kiln::model::hub::detail {
namespace {

// Redraw the bar at most this often; a multi-GB file would otherwise redraw
// on every 16 KB chunk.
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);
constexpr int kBarWidth = 30;

std::string human(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) {
    bytes /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

}  // namespace

Progress::Progress(ProgressStyle style, std::function<void(std::string_view)> log)
    : style_(style), log_(std::move(log)) {
  if (style_ == ProgressStyle::kAuto)
    style_ = ::isatty(STDERR_FILENO) && !log_ ? ProgressStyle::kBar : ProgressStyle::kLines;
}

void Progress::emit(std::string_view line) {
  if (log_) {
    log_(line);
  } else {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
  }
}

void Progress::notice(const std::string& line) {
  if (bar_open_) {
    std::fprintf(stderr, "\n");
    bar_open_ = false;
  }
  if (style_ != ProgressStyle::kNone) emit(line);
}

void Progress::start(const std::string& file, uint64_t total) {
  file_ = file;
  total_ = total;
  done_ = 0;
  start_ = last_draw_ = std::chrono::steady_clock::now();
  if (style_ == ProgressStyle::kLines)
    emit("kiln: downloading " + file + " (" + human(static_cast<double>(total)) + ")");
  if (style_ == ProgressStyle::kBar) draw(false);
}

void Progress::update(uint64_t done) {
  done_ = done;
  if (style_ != ProgressStyle::kBar) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  draw(false);
}

void Progress::finish() {
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? static_cast<double>(total_) / secs : 0;
  if (style_ == ProgressStyle::kBar) {
    done_ = total_;
    draw(true);
  } else if (style_ == ProgressStyle::kLines) {
    char buf[64];
    std::snprintf(buf, sizeof buf, " in %.1f s (%s/s)", secs, human(rate).c_str());
    emit("kiln: downloaded " + file_ + ": " + human(static_cast<double>(total_)) + buf);
  }
}

void Progress::draw(bool final) {
  const double frac = total_ > 0 ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  const int filled = static_cast<int>(frac * kBarWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kBarWidth, '.');
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? static_cast<double>(done_) / secs : 0;
  std::fprintf(stderr, "\r%-32.32s [%s] %3d%% %s / %s %s/s\033[K%s", file_.c_str(), bar.c_str(),
               static_cast<int>(frac * 100), human(static_cast<double>(done_)).c_str(),
               human(static_cast<double>(total_)).c_str(), human(rate).c_str(), final ? "\n" : "");
  bar_open_ = !final;
}

}  // namespace kiln::model::hub::detail
