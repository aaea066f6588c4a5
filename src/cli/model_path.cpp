#include "model_path.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "tinygpt/error.h"

#ifndef TINYGPT_SOURCE_MODEL_DIR
#define TINYGPT_SOURCE_MODEL_DIR ""
#endif
#ifndef TINYGPT_INSTALL_MODEL_DIR
#define TINYGPT_INSTALL_MODEL_DIR ""
#endif

namespace tinygpt {
namespace fs = std::filesystem;

std::vector<std::string> model_search_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("TINYGPT_MODEL_DIR"); env && *env) dirs.emplace_back(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back((exe.parent_path().parent_path() / "share" / "tiny-gpt" / "models").string());
  if (*TINYGPT_INSTALL_MODEL_DIR) dirs.emplace_back(TINYGPT_INSTALL_MODEL_DIR);
  if (*TINYGPT_SOURCE_MODEL_DIR) dirs.emplace_back(TINYGPT_SOURCE_MODEL_DIR);
  return dirs;
}

std::string resolve_model_path(const std::string& name_or_path) {
  const std::string name = name_or_path.empty() ? kDefaultModelName : name_or_path;
  std::error_code ec;
  if (!name_or_path.empty() && (name.find('/') != std::string::npos || fs::exists(name, ec))) return name;
  const std::string file = name.ends_with(".json") ? name : name + ".json";
  std::string tried;
  for (const auto& dir : model_search_dirs()) {
    const fs::path candidate = fs::path(dir) / file;
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
    tried += (tried.empty() ? "" : ", ") + dir;
  }
  throw_model_error("model \"" + name + "\" not found (looked in: " + tried + "); pass a file with -m");
}

}  // namespace tinygpt
