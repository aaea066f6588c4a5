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

namespace {

// A symlink that leads nowhere would otherwise be "not found" or "No such file or
// directory", which sends one looking for the link itself: say what it is.
void refuse_broken_link(const std::string& path) {
  std::error_code ec;
  if (!fs::is_symlink(fs::symlink_status(path, ec))) return;
  if (fs::exists(fs::status(path, ec)) && !ec) return;
  if (ec == std::errc::too_many_symbolic_link_levels)
    throw_model_error(path + " is a symbolic link in a loop (it leads back to itself)");
  const fs::path to = fs::read_symlink(path, ec);
  throw_model_error(path + " is a symbolic link to " + to.string() + ", which does not exist");
}

}  // namespace

std::string resolve_model_path(const std::string& name_or_path) {
  const std::string name = name_or_path.empty() ? kDefaultModelName : name_or_path;
  std::error_code ec;
  // symlink_status: a link that leads nowhere is still a path the user gave, not a model name.
  if (!name_or_path.empty() &&
      (name.find('/') != std::string::npos || fs::symlink_status(name, ec).type() != fs::file_type::not_found)) {
    refuse_broken_link(name);
    return name;
  }
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
