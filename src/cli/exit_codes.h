#pragma once
// The command line's exit codes (docs/errors.md); main.cpp is the one place that picks
// them, from the kind of error (tinygpt::ErrorKind).
namespace tinygpt::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitBadInput = 1;  // a bad model, input or output; out of memory
inline constexpr int kExitUsage = 2;     // an unknown, missing or contradictory flag, or a value out of range

}  // namespace tinygpt::cli
