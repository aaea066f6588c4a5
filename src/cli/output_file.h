#pragma once
// Output files appear whole or not at all: written to a temporary file in the same
// directory, flushed, then renamed over the target.
#include <signal.h>

#include <string>
#include <string_view>

namespace tinygpt {

// Throws Error(io) naming the path (missing directory, permission, disk full).
// A regular file (or a new one) is replaced atomically, keeping an existing file's mode;
// a new file gets 0666 less the umask. A symlink is followed: its target is replaced and
// the link stays a link. A character device or a FIFO (/dev/null, a pipe) is written in
// place, never replaced; a directory or a block device is refused.
void write_file_atomically(const std::string& path, std::string_view content);

// The file a path ends at once every symlink in its last component is followed (the path
// itself when it is no symlink, or when the chain ends at a name that does not exist yet):
// where a replacement must be renamed to, so that a link stays a link.
std::string final_target(const std::string& path);

// True when both paths name one existing file (the same device and inode, symlinks
// followed): an output that would be written over an input.
bool same_file(const std::string& a, const std::string& b);

// Writes all of `content` to `fd`, going on after interruptions and short writes. Returns
// 0, or the errno of the write that failed.
int write_all(int fd, std::string_view content);

// Holds Ctrl-C and friends (SIGINT, SIGTERM, SIGHUP, SIGQUIT) back while it lives: a write
// that is interrupted still removes its temporary files (or finishes its renames) before
// the signal takes effect.
class HoldSignals {
 public:
  HoldSignals();
  ~HoldSignals();
  HoldSignals(const HoldSignals&) = delete;
  HoldSignals& operator=(const HoldSignals&) = delete;

 private:
  sigset_t previous_;
};

}  // namespace tinygpt
