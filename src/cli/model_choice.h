#pragma once
// Loading the model for a command's input text. Without -m the shipped model whose
// vocabulary knows the text is chosen (English text: english-kjv; Chinese: tang-poems),
// and stderr says which (and, as with -m, what it still lacks). With -m, text that becomes the unknown token is warned
// about before any output, and text that becomes nothing else is refused, naming a shipped model that reads it.
#include <string>
#include <vector>

#include "common.h"

namespace tinygpt::cli {

// The shipped models a choice is made among, the default first (it wins ties). demo-tiny
// is left out: it exists to show the file format, not to read anyone's text.
inline constexpr const char* kChoosableModels[] = {"tang-poems", "english-kjv"};

// `inputs`: every text the command will encode (a prompt, words, a file's text). No
// inputs, or only empty ones, loads the model exactly as load() does, without a word.
// Messages quote the inputs, or say `name` when given (a file's text is long: its name).
Model load_for(const ModelOptions& options, const std::vector<std::string>& inputs, const std::string& name = "");

}  // namespace tinygpt::cli
