#include "progress_bar.h"

#include <unistd.h>

#include <cstdio>
#include <string>

namespace tinygpt::cli {

ProgressBar::ProgressBar(std::size_t total)
    : total_(total), shown_(::isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()), last_(start_) {}

void ProgressBar::update(std::size_t done, std::uint64_t tokens) {
  if (!shown_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total_ && drawn_ && now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  drawn_ = true;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  constexpr int kWidth = 30;
  const int filled = total_ > 0 ? static_cast<int>(kWidth * done / total_) : kWidth;
  const std::string bar = std::string(static_cast<std::size_t>(filled), '#') + std::string(kWidth - filled, '.');
  const double tps = seconds > 0 ? static_cast<double>(tokens) / seconds : 0.0;
  char eta[32] = "--";
  if (done > 0 && done < total_)
    std::snprintf(eta, sizeof eta, "%.0fs", seconds / static_cast<double>(done) * static_cast<double>(total_ - done));
  else if (done == total_) std::snprintf(eta, sizeof eta, "0s");
  std::fprintf(stderr, "\r[%s] %zu/%zu  %.0f tokens/s  ETA %s\x1b[K", bar.c_str(), done, total_, tps, eta);
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (shown_ && drawn_) std::fputs("\n", stderr);
}

}  // namespace tinygpt::cli
