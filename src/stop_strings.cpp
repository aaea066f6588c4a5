#include "tinygpt/stop_strings.h"

#include <algorithm>

namespace tinygpt {

StopStrings::StopStrings(std::span<const std::string> stops) : stops_(stops.begin(), stops.end()) {
  for (const auto& s : stops_) longest_ = std::max(longest_, s.size());
}

bool StopStrings::push(std::string_view bytes) {
  if (matched_) return true;
  // A new match must end in the new bytes, so it starts no earlier than this.
  const std::size_t from = text_.size() >= longest_ ? text_.size() - longest_ + 1 : 0;
  text_.append(bytes);
  std::size_t first = std::string::npos;
  for (std::size_t i = 0; i < stops_.size(); ++i) {
    const std::size_t at = text_.find(stops_[i], from);
    if (at < first) {  // the earliest in the text wins; at one place, the first listed
      first = at;
      matched_ = i;
    }
  }
  if (!matched_) return false;
  text_.resize(first);
  return true;
}

std::size_t StopStrings::settled() const {
  if (matched_ || stops_.empty()) return text_.size();
  // The earliest tail of the text that is the beginning of some stop string is held back.
  const std::size_t from = text_.size() >= longest_ ? text_.size() - longest_ + 1 : 0;
  for (std::size_t at = from; at < text_.size(); ++at) {
    const std::string_view tail = std::string_view(text_).substr(at);
    for (const auto& s : stops_)
      if (s.size() > tail.size() && s.compare(0, tail.size(), tail) == 0) return at;
  }
  return text_.size();
}

}  // namespace tinygpt
