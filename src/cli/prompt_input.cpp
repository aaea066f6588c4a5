#include "prompt_input.h"

#include <cstdio>

#include "input_file.h"
#include "tinygpt/error.h"
#include "utf8.h"

namespace tinygpt::cli {

namespace {

// Far more than any context holds; a bound so that `-f /dev/zero` is an error, not a hang.
constexpr std::uint64_t kMaxPromptBytes = std::uint64_t{64} << 20;

}  // namespace

std::string read_prompt(const std::string& path) {
  const bool stdin_ = path == "-";
  const std::string shown = stdin_ ? "standard input" : path;
  std::string text;
  try {
    text = read_input_file(stdin_ ? "/dev/stdin" : path, kMaxPromptBytes, ErrorKind::input);
  } catch (const Error& e) {
    if (!stdin_) throw;
    std::string message = e.what();  // says /dev/stdin: say what the user gave
    if (const auto at = message.find("/dev/stdin"); at != std::string::npos) message.replace(at, 10, shown);
    throw_input_error(message);
  }
  if (const auto bad = utf8::first_invalid(text)) {
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(text[*bad])));
    throw_input_error(shown + ": invalid UTF-8 at byte offset " + std::to_string(*bad) + " (byte " + byte +
                      "); the prompt must be UTF-8");
  }
  return text;
}

}  // namespace tinygpt::cli
