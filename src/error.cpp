#include "tinygpt/error.h"

namespace tinygpt {

void throw_model_error(const std::string& message) { throw Error(ErrorKind::model, message); }
void throw_input_error(const std::string& message) { throw Error(ErrorKind::input, message); }
void throw_usage_error(const std::string& message) { throw Error(ErrorKind::usage, message); }
void throw_io_error(const std::string& message) { throw Error(ErrorKind::io, message); }
void throw_parameter_error(const std::string& parameter, const std::string& message) {
  throw Error(ErrorKind::usage, message, parameter);
}

}  // namespace tinygpt
