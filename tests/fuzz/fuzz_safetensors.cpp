// libFuzzer target: the safetensors reader on arbitrary bytes.
//
// Every way to fail must be a tinygpt::Error of kind `model`. A header that is accepted
// must describe byte ranges inside the file that do not overlap and hold exactly
// shape x dtype size; each float tensor is then read as the loader would (in place,
// widened, or transposed), and every value copied must be finite.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "architecture.h"
#include "fuzz_check.h"
#include "safetensors.h"
#include "tinygpt/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = std::as_bytes(std::span(data, size));
  try {
    const tinygpt::Safetensors st = tinygpt::parse_safetensors(file, "fuzz.safetensors");
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    for (const auto& [name, t] : st.tensors) {
      FUZZ_CHECK(t.bytes.data() >= file.data() && t.bytes.data() + t.bytes.size() <= file.data() + file.size());
      FUZZ_CHECK(t.offset == static_cast<std::uint64_t>(t.bytes.data() - file.data()));
      if (!t.bytes.empty()) ranges.emplace_back(t.offset, t.offset + t.bytes.size());
    }
    std::sort(ranges.begin(), ranges.end());
    for (std::size_t i = 1; i < ranges.size(); ++i) FUZZ_CHECK(ranges[i].first >= ranges[i - 1].second);
    tinygpt::WeightStore store;
    for (const auto& [name, t] : st.tensors) {
      if (t.dtype != "F32" && t.dtype != "F16" && t.dtype != "BF16") continue;
      // As the checkpoint loader decides: a Conv1D weight that is aligned F32 is used in
      // place ([in][out]); one that must be copied is transposed on the way.
      const bool transpose = tinygpt::is_conv1d(name) && t.shape.size() == 2 && !tinygpt::safetensors_f32_in_place(t);
      try {
        const auto values = tinygpt::safetensors_values(t, name, transpose, store, "fuzz.safetensors");
        FUZZ_CHECK(values.size() == t.element_count());
        const bool in_place = tinygpt::safetensors_floats_to_store(t, transpose) == 0;
        if (!in_place)
          for (const float v : values) FUZZ_CHECK(std::isfinite(v));
      } catch (const tinygpt::Error& e) {
        FUZZ_CHECK(e.kind() == tinygpt::ErrorKind::model);
      }
    }
  } catch (const tinygpt::Error& e) {
    FUZZ_CHECK(e.kind() == tinygpt::ErrorKind::model);
  }
  return 0;
}
