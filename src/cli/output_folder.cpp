#include "output_folder.h"

#include <fcntl.h>
#include <stdio.h>
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

[[noreturn]] void cannot_write(const std::string& path, const std::string& why) {
  throw_io_error("cannot write " + path + ": " + why);
}

// Refuses a replace that would delete anything the command does not write itself.
void check_replaceable(const FolderOutput& out, const std::string& target) {
  std::error_code ec;
  for (fs::directory_iterator it(target, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!it->is_regular_file(ec) || it->is_symlink(ec) || !out.replaceable.contains(name))
      cannot_write(out.path, "it holds " + name +
                                 ", which this command does not write; refusing to delete it (remove the folder "
                                 "yourself if it can go)");
  }
  if (ec) cannot_write(out.path, ec.message());
}

}  // namespace

void write_folder_atomically(const FolderOutput& out) {
  if (out.path.empty()) throw_io_error("output path is empty");
  const std::string target = final_target(out.path);
  const fs::path parent = fs::path(target).has_parent_path() ? fs::path(target).parent_path() : fs::path(".");
  struct stat st {};
  const bool exists = ::lstat(target.c_str(), &st) == 0;
  if (exists) {
    if (!S_ISDIR(st.st_mode)) cannot_write(out.path, "it exists and is not a folder");
    if (!out.replace) throw_usage_error(out.path + " already exists (--force replaces it)");
    check_replaceable(out, target);
  }
  struct stat pst {};
  if (::stat(parent.c_str(), &pst) != 0) cannot_write(out.path, std::strerror(errno));
  if (!S_ISDIR(pst.st_mode)) cannot_write(out.path, std::strerror(ENOTDIR));
  if (::access(parent.c_str(), W_OK | X_OK) != 0) cannot_write(out.path, std::strerror(errno));

  std::string staging = (parent / ("." + fs::path(target).filename().string() + ".tmp-XXXXXX")).string();
  if (::mkdtemp(staging.data()) == nullptr) cannot_write(out.path, std::strerror(errno));
  auto discard = [&] {
    std::error_code ec;
    fs::remove_all(staging, ec);
  };
  const HoldSignals hold;  // Ctrl-C waits until the staging folder is renamed or removed
  try {
    // mkdtemp makes it 0700; a folder made by mkdir gets 0777 less the umask.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    if (::chmod(staging.c_str(), 0777 & ~mask) != 0) cannot_write(out.path, std::strerror(errno));
    for (const OutputFile& f : out.files) {
      try {
        write_file_atomically((fs::path(staging) / f.path).string(), f.content);
      } catch (const Error& e) {
        // Name the folder the user asked for, not its staging copy.
        std::string message = e.what();
        if (const auto at = message.find(staging); at != std::string::npos)
          message.replace(at, staging.size(), out.path);
        throw_io_error(message);
      }
    }
    if (!exists) {
      // NOREPLACE: a folder that appeared meanwhile is not silently swallowed.
      if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) != 0)
        cannot_write(out.path, std::strerror(errno));
      return;
    }
    // Swap the new folder with the old one in one step, then delete the old one (now under
    // the staging name). Where the file system cannot exchange, the old folder is moved
    // aside first: for a moment there is then no folder under the name, but never a mix.
    if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
      if (errno != EINVAL && errno != ENOSYS) cannot_write(out.path, std::strerror(errno));
      const std::string aside = staging + ".old";
      if (::rename(target.c_str(), aside.c_str()) != 0) cannot_write(out.path, std::strerror(errno));
      if (::rename(staging.c_str(), target.c_str()) != 0) {
        const int err = errno;
        ::rename(aside.c_str(), target.c_str());
        cannot_write(out.path, std::strerror(err));
      }
      staging = aside;
    }
    discard();
  } catch (...) {
    discard();
    throw;
  }
}

}  // namespace tinygpt::cli
