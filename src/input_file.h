#pragma once
// Reading a whole text file the user named (a corpus to score, GPT-2's vocabulary files)
// with a ceiling, so that /dev/zero, a FIFO that never ends or a directory gets one clear
// error instead of filling the memory or reading as empty.
#include <cstdint>
#include <string>

#include "tinygpt/error.h"

namespace tinygpt {

// The file's bytes. Throws Error(kind) naming the path when it cannot be opened, is a
// directory, or holds more than max_bytes.
std::string read_input_file(const std::string& path, std::uint64_t max_bytes, ErrorKind kind);

}  // namespace tinygpt
