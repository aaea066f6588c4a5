#pragma once
// The JSON object of one generation, as `generate --json` prints it and as each line of
// `generate --batch` carries it.
#include <nlohmann/json.hpp>

#include "tinygpt/generate.h"
#include "tinygpt/tokenizer.h"

namespace tinygpt::cli {

// {"prompt_ids", "ids", "text", "stop_reason", ["stop_string"], "seed", "steps"}; each step
// {"id", "token", "logprob", ["top_logprobs"]}.
nlohmann::json result_json(const Tokenizer& tok, const GenerateResult& r, const GenerateParams& params);

}  // namespace tinygpt::cli
