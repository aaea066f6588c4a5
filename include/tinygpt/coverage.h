#pragma once
// How much of a text a tokenizer's vocabulary knows, so that a front end can warn about
// (or refuse) text a model would read as unknown tokens, and pick among several models the
// one whose vocabulary fits the text best. Measures only: what to do with the numbers is
// the caller's decision.
#include <cstddef>
#include <string_view>

#include "tinygpt/tokenizer.h"

namespace tinygpt {

struct VocabularyCoverage {
  std::size_t characters = 0;  // code points in the text
  // Characters that became the unknown token (char vocabularies with an unk token), or that
  // a char vocabulary without one lacks (encode would refuse them).
  std::size_t unknown = 0;
  // Byte-level BPE only: characters the vocabulary has no token for, so they are split
  // into raw-byte tokens (Chinese in an English BPE). Readable, but never seen as a unit.
  std::size_t as_bytes = 0;

  // Characters the vocabulary does not know as characters.
  std::size_t missing() const { return unknown + as_bytes; }
};

// Throws Error(input) for invalid UTF-8 where tokenizer.encode() would (same message).
VocabularyCoverage vocabulary_coverage(const Tokenizer& tokenizer, std::string_view text);

}  // namespace tinygpt
