#include "index_selection.h"

#include <algorithm>

#include "tinygpt/error.h"

namespace tinygpt {

std::vector<int> resolve_indices(const std::vector<int>& wanted, int count, const std::string& noun) {
  std::vector<int> out;
  if (wanted.empty()) {
    for (int i = 0; i < count; ++i) out.push_back(i);
    return out;
  }
  for (const int i : wanted) {
    if (i < 0 || i >= count)
      throw_parameter_error(noun, noun + " " + std::to_string(i) + " is out of range: the model has " +
                                      std::to_string(count) + " " + noun + (count == 1 ? "" : "s") + ", numbered 0.." +
                                      std::to_string(count - 1));
    out.push_back(i);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace tinygpt
