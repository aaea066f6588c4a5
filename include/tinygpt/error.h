#pragma once
// One exception type for everything a caller can get wrong. The message names the file,
// tensor, token or parameter so that one line is enough to fix the problem. The library
// speaks in its own parameter names ("temperature must be >= 0, got -1"); a front end that
// spells them differently (the CLI's --temperature) finds the name in `parameter()` and
// maps it (src/cli/flag_names.cpp).
#include <stdexcept>
#include <string>
#include <utility>

namespace tinygpt {

// The CLI's exit codes for each kind are on the right (src/cli/exit_codes.h).
enum class ErrorKind {
  model,  // the weights file is missing, malformed or inconsistent      -> exit 1
  input,  // the prompt / word / text given is bad                        -> exit 1
  usage,  // a parameter is out of range or parameters contradict each other -> exit 2
  io,     // an output file cannot be written                           -> exit 1
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message, std::string parameter = {})
      : std::runtime_error(message), kind_(kind), parameter_(std::move(parameter)) {}
  ErrorKind kind() const noexcept { return kind_; }
  // The parameter at fault, as the library names it (a field of a Params or Options
  // struct, e.g. "top_p"); empty when the error is about a file or the input text.
  // The message mentions it by that name.
  const std::string& parameter() const noexcept { return parameter_; }

 private:
  ErrorKind kind_;
  std::string parameter_;
};

[[noreturn]] void throw_model_error(const std::string& message);
[[noreturn]] void throw_input_error(const std::string& message);
[[noreturn]] void throw_usage_error(const std::string& message);
[[noreturn]] void throw_io_error(const std::string& message);
// A usage error about one parameter; `message` names it as `parameter`.
[[noreturn]] void throw_parameter_error(const std::string& parameter, const std::string& message);

}  // namespace tinygpt
