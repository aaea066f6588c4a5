#include "positional.h"

#include <cmath>

namespace tinygpt {

void sinusoidal_table(std::span<float> out, int n_ctx, int n_embd) {
  for (int p = 0; p < n_ctx; ++p) {
    float* row = out.data() + static_cast<std::size_t>(p) * static_cast<std::size_t>(n_embd);
    for (int i = 0; 2 * i < n_embd; ++i) {
      // Double precision: positions near n_ctx make the argument large enough that
      // float32 rounding would show up in the sine.
      const double angle = p / std::pow(10000.0, 2.0 * i / n_embd);
      row[2 * i] = static_cast<float>(std::sin(angle));
      if (2 * i + 1 < n_embd) row[2 * i + 1] = static_cast<float>(std::cos(angle));
    }
  }
}

}  // namespace tinygpt
