#include "output_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "tinygpt/error.h"

namespace tinygpt {

HoldSignals::HoldSignals() {
  sigset_t held;
  sigemptyset(&held);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&held, sig);
  ::pthread_sigmask(SIG_BLOCK, &held, &previous_);
}

HoldSignals::~HoldSignals() { ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

int write_all(int fd, std::string_view content) {
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

namespace {

[[noreturn]] void fail(const std::string& path, int err) {
  throw_io_error("cannot write " + path + ": " + std::strerror(err));
}

// A character device or a FIFO (/dev/null, a pipe to another program) is the thing to write
// to, not a file to replace: a rename would put a regular file in its place.
void write_in_place(const std::string& path, std::string_view content, bool truncate) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY | (truncate ? O_TRUNC : 0));
  if (fd < 0) fail(path, errno);
  int err = write_all(fd, content);
  if (err == 0 && truncate && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) fail(path, err);
}

// The temporary file beside `target`, removed again unless it was renamed into place.
// Created with 0666 so that the kernel applies the umask, as it would to a new file.
class TempFile {
 public:
  TempFile(const std::string& target, const std::string& shown) : shown_(shown) {
    namespace fs = std::filesystem;
    const fs::path t(target);
    const fs::path dir = t.has_parent_path() ? t.parent_path() : fs::path(".");
    static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::random_device random;
    std::uniform_int_distribution<int> pick(0, sizeof kChars - 2);
    for (int attempt = 0; attempt < 100 && fd_ < 0; ++attempt) {
      std::string suffix(6, 'x');
      for (char& c : suffix) c = kChars[pick(random)];
      name_ = (dir / ("." + t.filename().string() + ".tmp-" + suffix)).string();
      fd_ = ::open(name_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ < 0 && errno != EEXIST) fail(shown_, errno);
    }
    if (fd_ < 0) fail(shown_, EEXIST);
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!renamed_) ::unlink(name_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  int fd() const { return fd_; }
  // Closes the file and moves it to `target`; throws naming the user's path.
  void commit(const std::string& target) {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail(shown_, errno);
    if (::rename(name_.c_str(), target.c_str()) != 0) fail(shown_, errno);
    renamed_ = true;
  }

 private:
  std::string shown_, name_;
  int fd_ = -1;
  bool renamed_ = false;
};

// Writes a temporary file beside `target` and renames it over the target. A file that was
// there keeps its mode (and, where we may set it, its owner).
void replace(const std::string& target, const std::string& shown, std::string_view content, const struct stat* old) {
  const HoldSignals hold;
  TempFile tmp(target, shown);
  if (const int err = write_all(tmp.fd(), content)) fail(shown, err);
  if (old) {
    // Owner first: a chown clears set-id bits, which the chmod then restores. Only root may
    // give a file away (EPERM otherwise): then the new file is ours, as any new file would be.
    if (::fchown(tmp.fd(), old->st_uid, old->st_gid) != 0 && errno != EPERM) fail(shown, errno);
    if (::fchmod(tmp.fd(), old->st_mode & 07777) != 0) fail(shown, errno);
  }
  if (::fsync(tmp.fd()) != 0) fail(shown, errno);
  tmp.commit(target);
}

}  // namespace

void write_file_atomically(const std::string& path, std::string_view content) {
  if (path.empty()) throw_io_error("output path is empty");
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (!exists && errno == ELOOP) fail(path, ELOOP);
  if (exists && S_ISDIR(st.st_mode)) throw_io_error("cannot write " + path + ": it is a directory");
  if (exists && S_ISBLK(st.st_mode))
    throw_io_error("cannot write " + path + ": it is a block device (a disk), not a file to write a result into");
  if (exists && !S_ISREG(st.st_mode)) return write_in_place(path, content, false);
  // The rename must land on the file itself: renamed over a symlink, the link would go.
  const std::string target = final_target(path);
  struct stat at_target {};
  const bool same = exists && ::stat(target.c_str(), &at_target) == 0 && at_target.st_dev == st.st_dev &&
                    at_target.st_ino == st.st_ino;
  // A link that names no path of the file (/proc/self/fd/N of a deleted file): write through it.
  if (exists && !same) return write_in_place(path, content, true);
  replace(target, path, content, exists ? &st : nullptr);
}

std::string final_target(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path p(path);
  for (int hops = 0; hops < 40; ++hops) {  // Linux's own limit
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p.string();
    std::error_code ec;
    const fs::path to = fs::read_symlink(p, ec);
    if (ec) fail(path, ec.value());
    p = to.is_absolute() ? to : p.parent_path() / to;
  }
  fail(path, ELOOP);
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {
  }, sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace tinygpt
