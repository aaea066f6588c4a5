#pragma once
// Where the shipped models live, so that `tiny-gpt generate "..."` works without -m
// both from the build tree and after `cmake --install`.
#include <string>
#include <vector>

namespace tinygpt {

inline constexpr const char* kDefaultModelName = "tang-poems.json";

// Directories searched for shipped models, most specific first: $TINYGPT_MODEL_DIR,
// <prefix>/share/tiny-gpt/models next to the installed binary, the source tree's models/.
std::vector<std::string> model_search_dirs();

// A bare name like "english-kjv" or "tang-poems.json" is looked up in those directories;
// anything with a '/' or an existing file is taken as a path. Empty means the default model.
std::string resolve_model_path(const std::string& name_or_path);

}  // namespace tinygpt
