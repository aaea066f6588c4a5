#pragma once
// One exception type for everything the user can get wrong. The kind decides the
// exit code in exactly one place (src/cli/main.cpp); the message names the file,
// tensor, token or flag so that the single stderr line is enough to fix the problem.
#include <stdexcept>
#include <string>

namespace tinygpt {

enum class ErrorKind {
  model,  // the weights file is missing, malformed or inconsistent      -> exit 1
  input,  // the prompt / word / text given on the command line is bad   -> exit 1
  usage,  // a flag value is out of range or flags contradict each other -> exit 2
  io,     // an output file cannot be written                           -> exit 1
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

[[noreturn]] void throw_model_error(const std::string& message);
[[noreturn]] void throw_input_error(const std::string& message);
[[noreturn]] void throw_usage_error(const std::string& message);
[[noreturn]] void throw_io_error(const std::string& message);

// Exit codes shared by the CLI and its tests.
inline constexpr int kExitOk = 0;
inline constexpr int kExitBadInput = 1;
inline constexpr int kExitUsage = 2;

}  // namespace tinygpt
