// libFuzzer target: the tokenizers and the UTF-8 helpers on arbitrary bytes.
//
// Tokenizers: two char vocabularies from the reference fixtures (one without unk, one
// with), GPT-2's byte-level BPE from its own encoder.json + vocab.bpe, and a tiny byte_bpe
// model with a handful of merges. For each: encode the input (failing only with an input
// error, and for byte_bpe only on invalid UTF-8), decode what it encoded back to the same
// bytes, and decode the input read as arbitrary ids. UTF-8: sanitize gives valid UTF-8 and
// the streaming decoder, fed the input in pieces, gives exactly what sanitize gives.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "pretokenize.h"
#include "tinygpt/error.h"
#include "tinygpt/load.h"
#include "tinygpt/tokenizer.h"
#include "utf8.h"

namespace {

bool valid_utf8(std::string_view s) { return !tinygpt::utf8::first_invalid(s); }

struct Subject {
  tinygpt::Tokenizer tokenizer;
  bool round_trips;  // decode(encode(text)) == text whenever encode succeeds
};

std::vector<Subject>& subjects() {
  static std::vector<Subject> all;
  return all;
}

tinygpt::Tokenizer from_model(const char* rel) {
  return tinygpt::load_model(std::string(TINYGPT_FIXTURES) + "/" + rel).tokenizer;
}

void fuzz_tokenizer(const Subject& s, std::string_view text, std::span<const std::uint16_t> raw_ids) {
  const tinygpt::Tokenizer& tok = s.tokenizer;
  // Ids mostly in range, with a few just outside it (-2, -1, size, size + 1).
  std::vector<std::int32_t> ids;
  for (const auto r : raw_ids) ids.push_back(static_cast<std::int32_t>(r % (tok.size() + 4)) - 2);
  try {
    const std::vector<std::int32_t> encoded = tok.encode(text);
    // Never a special token, but for unk standing in for a character the vocabulary lacks.
    for (const auto id : encoded) FUZZ_CHECK(id >= 0 && id < tok.size() && (!tok.is_special(id) || id == tok.unk_id()));
    if (s.round_trips) FUZZ_CHECK(tok.decode(encoded) == text);
    FUZZ_CHECK(valid_utf8(tok.decode_text(encoded)));
  } catch (const tinygpt::Error& e) {
    FUZZ_CHECK(e.kind() == tinygpt::ErrorKind::input);
    // Byte-level BPE takes any valid UTF-8; only broken bytes are refused.
    if (tok.type() == tinygpt::TokenizerType::byte_bpe) FUZZ_CHECK(!valid_utf8(text));
  }
  FUZZ_CHECK(valid_utf8(tok.decode_text(ids)));
  for (const auto id : ids) {
    FUZZ_CHECK(valid_utf8(tok.piece(id)));
    if (id >= 0 && id < tok.size()) FUZZ_CHECK(tok.decode(std::span(&id, 1)).size() <= tok.token_bytes(id).size());
  }
  if (const auto id = tok.lookup(text)) FUZZ_CHECK(*id >= 0 && *id < tok.size());
}

void fuzz_utf8(std::string_view text, std::uint8_t chunking) {
  using namespace tinygpt;
  const std::string clean = utf8::sanitize(text);
  FUZZ_CHECK(valid_utf8(clean));
  FUZZ_CHECK(utf8::display_width(text) >= 0);
  // The stream, fed 1..8 bytes at a time, must agree with sanitizing the whole.
  utf8::StreamDecoder stream;
  std::string streamed;
  const std::size_t step = 1 + chunking % 8;
  for (std::size_t i = 0; i < text.size(); i += step) streamed += stream.push(text.substr(i, step));
  streamed += stream.finish();
  FUZZ_CHECK(streamed == clean);
  if (valid_utf8(text)) {
    std::string joined;
    for (const auto piece : pretok::split(text)) {
      FUZZ_CHECK(!piece.empty());
      joined += piece;
    }
    FUZZ_CHECK(joined == text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::string gpt2 = std::string(TINYGPT_FIXTURES) + "/tokenizer/gpt2/";
  subjects().push_back({from_model("ref/chinese_vocab.model.json"), true});
  subjects().push_back({from_model("ref/unk_token.model.json"), false});
  subjects().push_back({tinygpt::Tokenizer::from_gpt2_files(gpt2 + "encoder.json", gpt2 + "vocab.bpe"), true});
  subjects().push_back({from_model("broken/base_bpe.model.json"), true});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks how the stream decoder is fed; the rest is the text, and also
  // (read as 16-bit numbers) the ids to decode.
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::uint16_t> ids((size - 1) / 2);
  if (!ids.empty()) std::memcpy(ids.data(), data + 1, ids.size() * 2);
  for (const Subject& s : subjects()) fuzz_tokenizer(s, text, ids);
  fuzz_utf8(text, data[0]);
  return 0;
}
