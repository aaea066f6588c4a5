#include "batch_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "output_file.h"
#include "tinygpt/error.h"

namespace tinygpt::cli {

BatchOutput::BatchOutput(const std::string& path, bool force, const std::string& input)
    : shown_(path.empty() ? "standard output" : path) {
  if (path.empty()) return;
  if (input != "-" && same_file(path, input))
    throw_usage_error("--output " + path + " is the input file " + input + ": refusing to write over it");
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) throw_io_error("cannot write " + path + ": it is a directory");
  if (exists && S_ISBLK(st.st_mode))
    throw_io_error("cannot write " + path + ": it is a block device (a disk), not a file to write a result into");
  if (exists && S_ISREG(st.st_mode) && !force)
    throw_usage_error("--output " + path + " exists: give --force to replace it, or another name");
  int flags = O_WRONLY | O_CLOEXEC | O_NOCTTY;
  if (!exists) flags |= O_CREAT | O_EXCL;
  if (exists && S_ISREG(st.st_mode)) flags |= O_TRUNC;
  fd_ = ::open(path.c_str(), flags, 0666);
  if (fd_ < 0) throw_io_error("cannot write " + path + ": " + std::strerror(errno));
  own_ = true;
  regular_ = !exists || S_ISREG(st.st_mode);
}

BatchOutput::~BatchOutput() {
  if (own_) ::close(fd_);
}

void BatchOutput::write_line(std::string_view line) {
  std::string whole(line);
  whole += '\n';
  const HoldSignals hold;  // a line is written whole or, if the signal came first, not at all
  if (const int err = write_all(fd_, whole)) throw_io_error("cannot write " + shown_ + ": " + std::strerror(err));
}

void BatchOutput::finish() {
  if (regular_ && ::fsync(fd_) != 0) throw_io_error("cannot write " + shown_ + ": " + std::strerror(errno));
}

}  // namespace tinygpt::cli
