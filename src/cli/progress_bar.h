#pragma once
// A one-line progress bar on stderr (done / total, tokens/s, ETA), drawn only when stderr
// is a terminal: in a log file or a pipe it would be noise.
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace tinygpt::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::size_t total);
  // Redraws at most a few times a second (and always for the last item).
  void update(std::size_t done, std::uint64_t tokens);
  // Ends the line, so that what follows on stderr starts on a line of its own.
  void finish();

 private:
  std::size_t total_;
  bool shown_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace tinygpt::cli
