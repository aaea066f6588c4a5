#pragma once
// Numbers quoted back in error messages.
#include <charconv>
#include <string>

namespace tinygpt {

// The shortest text that reads back as `v` ("0.5", "-1", "inf"), as the caller wrote it
// in most cases.
inline std::string shortest(float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace tinygpt
