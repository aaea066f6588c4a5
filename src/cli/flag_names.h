#pragma once
// The library names parameters as its structs spell them ("top_p", "max_ctx"); the
// command line calls them by their flags. This is the one place that translates.
#include <string>

#include "tinygpt/error.h"

namespace tinygpt::cli {

// The flag for a library parameter ("top_p" -> "--top-p"), or empty when it has none.
std::string flag_for(const std::string& parameter);

// An error's message as the command line says it: the parameter's name replaced by its flag.
std::string cli_message(const Error& e);

}  // namespace tinygpt::cli
