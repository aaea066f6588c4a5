#pragma once
// Where `generate --batch` writes its results: standard output, or the file of -o.
//
// Lines go out as soon as they are ready, each with one write while Ctrl-C and friends are
// held back, so that an interrupted run leaves only complete lines: what was done is kept.
// For that the file is written in place, not through a temporary file renamed at the end
// (output_file.h), so an existing file is never overwritten unless asked (--force), and a
// new one is created exclusively, never truncating what another process just made.
#include <string>
#include <string_view>

namespace tinygpt::cli {

class BatchOutput {
 public:
  // `path` empty: standard output. Refuses (Error) a directory, a block device, the input
  // file, and an existing regular file unless `force`. A FIFO or character device is
  // written in place; a symlink is followed.
  BatchOutput(const std::string& path, bool force, const std::string& input);
  ~BatchOutput();
  BatchOutput(const BatchOutput&) = delete;
  BatchOutput& operator=(const BatchOutput&) = delete;

  // One line; `line` holds no newline, one is added. Throws Error(io) when it cannot be written.
  void write_line(std::string_view line);
  // Flushes a regular file to disk; throws Error(io) when that fails.
  void finish();

 private:
  int fd_ = 1;
  bool own_ = false, regular_ = false;
  std::string shown_;
};

}  // namespace tinygpt::cli
