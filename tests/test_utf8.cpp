// UTF-8 validation, repair and the streaming decoder used by generate.
#include <catch2/catch.hpp>

#include "utf8.h"

using namespace tinygpt;

TEST_CASE("validation finds the first invalid byte", "[utf8]") {
  CHECK_FALSE(utf8::first_invalid("新年快樂 hello").has_value());
  CHECK(utf8::first_invalid("ab\xFF").value() == 2);
  CHECK(utf8::first_invalid("\xC0\xAF").value() == 0);          // overlong '/'
  CHECK(utf8::first_invalid("\xED\xA0\x80").value() == 0);      // surrogate
  CHECK(utf8::first_invalid("\xF4\x90\x80\x80").value() == 0);  // above U+10FFFF
  CHECK(utf8::first_invalid("x\xE6\x96").value() == 1);         // truncated
}

TEST_CASE("sanitize replaces each maximal invalid subpart with U+FFFD", "[utf8]") {
  CHECK(utf8::sanitize("ok") == "ok");
  CHECK(utf8::sanitize("a\xFF"
                       "b") ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(utf8::sanitize("\xE6\x96"
                       "x") ==
        "\xEF\xBF\xBD"
        "x");  // truncated 3-byte: one replacement
  CHECK(utf8::sanitize("\xE6\x96") == "\xEF\xBF\xBD");
}

TEST_CASE("the stream decoder never splits a character across pushes", "[utf8]") {
  utf8::StreamDecoder d;
  const std::string xin = "新";  // E6 96 B0
  CHECK(d.push(xin.substr(0, 1)).empty());
  CHECK(d.push(xin.substr(1, 1)).empty());
  CHECK(d.push(xin.substr(2, 1) + "a") == "新a");
  CHECK(d.finish().empty());
}

TEST_CASE("the stream decoder marks broken bytes visibly, mid-stream and at the end", "[utf8]") {
  utf8::StreamDecoder d;
  CHECK(d.push("\xFF"
               "b") ==
        "\xEF\xBF\xBD"
        "b");
  CHECK(d.push("\xE5\xB9").empty());    // first two bytes of 年
  CHECK(d.finish() == "\xEF\xBF\xBD");  // the generation ended mid-character
  CHECK(d.push("\xE5"
               "x") ==
        "\xEF\xBF\xBD"
        "x");
}

TEST_CASE("display width counts CJK as two columns", "[utf8]") {
  CHECK(utf8::display_width("abc") == 3);
  CHECK(utf8::display_width("新年快樂") == 8);
  CHECK(utf8::display_width("，") == 2);
}
