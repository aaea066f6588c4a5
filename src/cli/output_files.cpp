#include "output_files.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "output_file.h"
#include "tinygpt/error.h"

namespace tinygpt::cli {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void cannot_write(const std::string& path, int err) {
  throw_io_error("cannot write " + path + ": " + std::strerror(err));
}

fs::path parent_of(const std::string& path) {
  const fs::path p(path);
  return p.has_parent_path() ? p.parent_path() : fs::path(".");
}

// A file written into its own staging directory, waiting to be renamed over its target.
struct Staged {
  std::string dir;   // .NAME.tmp-XXXXXX beside the target
  std::string file;  // dir/NAME
  std::string target;
};

void discard(const Staged& s) {
  std::error_code ec;
  fs::remove_all(s.dir, ec);
}

// Beside the file the path ends at (symlinks followed), with the mode and owner of the file
// it replaces, as write_file_atomically does for one file.
Staged stage(const OutputFile& f, const struct stat* old) {
  const std::string target = final_target(f.path);
  const std::string name = fs::path(target).filename().string();
  std::string dir = (parent_of(target) / ("." + name + ".tmp-XXXXXX")).string();
  if (::mkdtemp(dir.data()) == nullptr) cannot_write(f.path, errno);
  Staged s{dir, (fs::path(dir) / name).string(), target};
  try {
    write_file_atomically(s.file, f.content);
    // Owner first: a chown clears set-id bits, which the chmod then restores. Only root may
    // give a file away (EPERM otherwise).
    if (old && ::chown(s.file.c_str(), old->st_uid, old->st_gid) != 0 && errno != EPERM) cannot_write(f.path, errno);
    if (old && ::chmod(s.file.c_str(), old->st_mode & 07777) != 0) cannot_write(f.path, errno);
  } catch (const Error& e) {
    discard(s);
    // Name the file the user asked for, not its staging copy.
    std::string message = e.what();
    if (const auto at = message.find(s.file); at != std::string::npos) message.replace(at, s.file.size(), f.path);
    throw_io_error(message);
  }
  return s;
}

}  // namespace

void check_writable(const std::string& path) {
  if (path.empty()) throw_io_error("output path is empty");
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw_io_error("cannot write " + path + ": it is a directory");
  const std::string dir = parent_of(path).string();
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) cannot_write(path, errno);
  if (!S_ISDIR(st.st_mode)) cannot_write(path, ENOTDIR);
  if (::access(dir.c_str(), W_OK | X_OK) != 0) cannot_write(path, errno);
}

void write_together(const std::vector<OutputFile>& files) {
  // What is at each target decides how it is written: a regular file (or none) is staged and
  // renamed into place; a FIFO or a character device (/dev/null) is written to, after the
  // renames, never replaced; a block device is refused.
  std::vector<std::optional<struct stat>> old(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    check_writable(files[i].path);
    struct stat st {};
    if (::stat(files[i].path.c_str(), &st) != 0) continue;
    if (S_ISBLK(st.st_mode))
      throw_io_error("cannot write " + files[i].path +
                     ": it is a block device (a disk), not a file to write a result into");
    old[i] = st;
  }
  auto in_place = [&](std::size_t i) { return old[i] && !S_ISREG(old[i]->st_mode); };
  const HoldSignals hold;
  std::vector<Staged> staged;
  try {
    for (std::size_t i = 0; i < files.size(); ++i)
      if (!in_place(i)) staged.push_back(stage(files[i], old[i] ? &*old[i] : nullptr));
  } catch (...) {
    for (const Staged& s : staged) discard(s);
    throw;
  }
  for (std::size_t i = 0; i < staged.size(); ++i) {
    if (::rename(staged[i].file.c_str(), staged[i].target.c_str()) != 0) {
      const int err = errno;
      for (std::size_t j = i; j < staged.size(); ++j) discard(staged[j]);
      cannot_write(staged[i].target, err);
    }
    discard(staged[i]);  // its directory, empty now
  }
  for (std::size_t i = 0; i < files.size(); ++i)
    if (in_place(i)) write_file_atomically(files[i].path, files[i].content);
}

}  // namespace tinygpt::cli
