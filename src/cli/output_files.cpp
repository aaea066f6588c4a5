#include "output_files.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

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

Staged stage(const OutputFile& f) {
  const std::string name = fs::path(f.path).filename().string();
  std::string dir = (parent_of(f.path) / ("." + name + ".tmp-XXXXXX")).string();
  if (::mkdtemp(dir.data()) == nullptr) cannot_write(f.path, errno);
  Staged s{dir, (fs::path(dir) / name).string(), f.path};
  try {
    write_file_atomically(s.file, f.content);
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
  for (const OutputFile& f : files) check_writable(f.path);
  const HoldSignals hold;
  std::vector<Staged> staged;
  try {
    for (const OutputFile& f : files) staged.push_back(stage(f));
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
}

}  // namespace tinygpt::cli
