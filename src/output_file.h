#pragma once
// Output files appear whole or not at all: written to a temporary file in the same
// directory, flushed, then renamed over the target.
#include <string>
#include <string_view>

namespace tinygpt {

// Throws Error(io) naming the path (missing directory, permission, disk full).
void write_file_atomically(const std::string& path, std::string_view content);

}  // namespace tinygpt
