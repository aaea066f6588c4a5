#pragma once
// One line of a `generate --batch` file: {"id", "prompt", and optional overrides named as
// the library's parameters: max_new_tokens, temperature, top_k, top_p, min_p,
// repeat_penalty, repeat_last_n, frequency_penalty, presence_penalty, seed, stop}.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "tinygpt/generate.h"

namespace tinygpt::cli {

struct BatchRequest {
  std::size_t line = 0;  // 1-based, in the input file
  nlohmann::json id;     // as given (any JSON value); null when the line has none
  std::string prompt;
  GenerateParams params;
};

// The request of one line: `defaults` (the command line's settings) with the line's
// overrides. A line without "seed" takes `seed` when the command line gave one, else a
// random one (which its result shows). Throws Error(input) naming the JSON key at fault
// (the keys are the library's parameter names, so its messages need no translation).
// `partial_id` gets the line's id as soon as it is known, for the error object.
BatchRequest parse_request(std::string_view text, std::size_t line, const GenerateParams& defaults,
                           std::optional<std::uint64_t> seed, nlohmann::json& partial_id);

}  // namespace tinygpt::cli
