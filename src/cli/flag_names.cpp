#include "flag_names.h"

#include <array>
#include <string_view>
#include <utility>

namespace tinygpt::cli {

std::string flag_for(const std::string& parameter) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 22> kFlags = {{
      {"temperature", "--temperature"},
      {"top_k", "--top-k"},
      {"top_p", "--top-p"},
      {"min_p", "--min-p"},
      {"repeat_penalty", "--repeat-penalty"},
      {"repeat_last_n", "--repeat-last-n"},
      {"frequency_penalty", "--frequency-penalty"},
      {"presence_penalty", "--presence-penalty"},
      {"stop", "--stop"},
      {"max_new_tokens", "--max-new-tokens"},
      {"top_logprobs", "--top-logprobs"},
      {"layer", "--layer"},
      {"head", "--head"},
      {"max_parameters", "--max-params"},
      {"max_ctx", "--max-ctx"},
      {"position", "--position"},
      {"analogy", "--analogy"},
      {"neighbors", "--neighbors"},
      {"export", "--export"},
      {"top", "--top"},
      {"max_values", "--max-values"},
      {"count", "--count"},
  }};
  for (const auto& [name, flag] : kFlags)
    if (name == parameter) return std::string(flag);
  return {};
}

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Where `word` stands alone in `text` (not inside a longer name), searching from the front
// or from the back; npos when nowhere.
std::size_t find_word(std::string_view text, std::string_view word, bool from_back) {
  std::size_t at = from_back ? text.rfind(word) : text.find(word);
  while (at != std::string_view::npos) {
    const bool alone = (at == 0 || !is_name_char(text[at - 1])) &&
                       (at + word.size() == text.size() || !is_name_char(text[at + word.size()]));
    if (alone) return at;
    if (from_back && at == 0) break;
    at = from_back ? text.rfind(word, at - 1) : text.find(word, at + 1);
  }
  return std::string_view::npos;
}

}  // namespace

std::string cli_message(const Error& e) {
  std::string message = e.what();
  const std::string flag = flag_for(e.parameter());
  if (flag.empty()) return message;
  // A usage error leads with the parameter ("top_p must be ..."), while quoted input may
  // follow; a model error leads with the file's path and names the limit at the end.
  const bool from_back = e.kind() != ErrorKind::usage;
  const std::size_t at = find_word(message, e.parameter(), from_back);
  if (at != std::string::npos) message.replace(at, e.parameter().size(), flag);
  return message;
}

}  // namespace tinygpt::cli
