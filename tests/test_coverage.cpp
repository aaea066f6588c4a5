// vocabulary_coverage (tinygpt/coverage.h): what a vocabulary lacks of a text, in numbers.
#include <catch2/catch.hpp>

#include "helpers.h"
#include "tinygpt/coverage.h"
#include "tinygpt/error.h"
#include "tinygpt/load.h"

using namespace tinygpt;
using namespace tinygpt::test;

TEST_CASE("vocabulary_coverage: a char vocabulary counts the characters it lacks", "[coverage]") {
  const Model m = load_model(fixture("ref/unk_token.model.json"));  // a, b, c, ... and <unk>
  VocabularyCoverage c = vocabulary_coverage(m.tokenizer, "ab");
  CHECK(c.characters == 2);
  CHECK(c.missing() == 0);
  c = vocabulary_coverage(m.tokenizer, "aö☃");
  CHECK(c.characters == 3);
  CHECK(c.unknown == 2);
  CHECK(c.as_bytes == 0);
  // A special token's name is ordinary text: "<unk>" is five characters, each known or not.
  c = vocabulary_coverage(m.tokenizer, "<unk>");
  CHECK(c.characters == 5);
  CHECK(c.unknown == 0);
  CHECK(vocabulary_coverage(m.tokenizer, "").characters == 0);
  CHECK_THROWS_AS(vocabulary_coverage(m.tokenizer, "a\xFF"), Error);
}

TEST_CASE("vocabulary_coverage: a byte-level BPE counts the characters it has only as bytes", "[coverage]") {
  const Model m = load_model(std::string(TINYGPT_SOURCE_DIR) + "/models/english-kjv.json");
  VocabularyCoverage c = vocabulary_coverage(m.tokenizer, "In the beginning");
  CHECK(c.characters == 16);
  CHECK(c.missing() == 0);
  c = vocabulary_coverage(m.tokenizer, "king 床前");
  CHECK(c.characters == 7);
  CHECK(c.unknown == 0);
  CHECK(c.as_bytes == 2);
  CHECK_THROWS_AS(vocabulary_coverage(m.tokenizer, "\xC3"), Error);
}
