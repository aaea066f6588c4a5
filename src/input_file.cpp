#include "input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tinygpt {

namespace {

[[noreturn]] void fail(ErrorKind kind, const std::string& message) { throw Error(kind, message); }

// Closes the descriptor on every path out, including a thrown error.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string size_text(std::uint64_t bytes) {
  if (bytes >= (std::uint64_t{1} << 20)) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

std::string read_input_file(const std::string& path, std::uint64_t max_bytes, ErrorKind kind) {
  const Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) fail(kind, "cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) fail(kind, "cannot read " + path + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) fail(kind, path + " is a directory, not a file");
  const std::string too_big = path + " is larger than the " + size_text(max_bytes) + " this reads";
  // A regular file says its size up front; pipes and devices (/dev/stdin, /dev/zero) do
  // not, so the limit is also enforced while reading.
  if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > max_bytes) fail(kind, too_big);

  std::string text;
  if (S_ISREG(st.st_mode)) text.reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(kind, "cannot read " + path + ": " + std::strerror(errno));
    }
    if (text.size() + static_cast<std::size_t>(n) > max_bytes) fail(kind, too_big);
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

}  // namespace tinygpt
