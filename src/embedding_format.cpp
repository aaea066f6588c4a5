#include "embedding_format.h"

#include <cstdio>
#include <filesystem>

#include "utf8.h"

namespace tinygpt::embedding_format {

std::string fixed(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string quoted(const std::string& s) { return "\"" + utf8::sanitize(s) + "\""; }

std::string joined(const std::vector<std::string>& pieces) {
  std::string s;
  for (std::size_t i = 0; i < pieces.size(); ++i) s += (i ? " " : "") + pieces[i];
  return s;
}

std::string export_path(const std::string& dir, std::string_view name) {
  return (std::filesystem::path(dir) / name).string();
}

}  // namespace tinygpt::embedding_format
