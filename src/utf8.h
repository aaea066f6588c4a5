#pragma once
// UTF-8 helpers. Tokens are byte strings; text shown to people must be valid UTF-8.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tinygpt::utf8 {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid or
// truncated (overlongs, surrogates and code points above U+10FFFF are invalid).
std::size_t sequence_length(std::string_view s, std::size_t i);

// Byte offset of the first invalid byte, or nullopt when the whole string is valid.
std::optional<std::size_t> first_invalid(std::string_view s);

// Replaces every maximal invalid subsequence with U+FFFD (as the WHATWG decoder does).
std::string sanitize(std::string_view bytes);

// Decodes the code point of a valid sequence starting at s[i].
char32_t decode_at(std::string_view s, std::size_t i);
std::string encode(char32_t cp);

// Number of terminal columns a string occupies (East Asian wide characters count 2).
int display_width(std::string_view s);

// Feeds token bytes as they are generated and hands back only complete characters,
// so a character split across tokens is never printed as broken bytes.
class StreamDecoder {
 public:
  // Returns the text that became complete with these bytes. Bytes that can never
  // become valid are replaced with U+FFFD immediately.
  std::string push(std::string_view bytes);
  // End of stream: an unfinished sequence becomes U+FFFD.
  std::string finish();

 private:
  std::string pending_;
};

}  // namespace tinygpt::utf8
