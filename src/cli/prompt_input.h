#pragma once
// Where generate's prompt comes from: the argument, a file (-f), or standard input ("-").
#include <string>

namespace tinygpt::cli {

// The prompt's text from a file, or from standard input when `path` is "-". Throws
// Error(input) naming the source for a file that cannot be read or is not UTF-8 (the
// tokenizer would refuse it anyway, but could not say which file it was).
std::string read_prompt(const std::string& path);

}  // namespace tinygpt::cli
