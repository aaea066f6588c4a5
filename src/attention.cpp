#include "tinygpt/attention.h"

#include <algorithm>

#include "kernels.h"

namespace tinygpt {

void attend_head(float* out, const float* q, const float* keys, const float* values, int kv_stride, int n_keys,
                 int head_dim, float scale, float* scores) {
  for (int j = 0; j < n_keys; ++j)
    scores[j] = kernels::dot(q, keys + static_cast<std::size_t>(j) * kv_stride, head_dim) * scale;
  kernels::softmax(scores, n_keys);
  std::fill(out, out + head_dim, 0.0f);
  for (int j = 0; j < n_keys; ++j) {
    const float* v = values + static_cast<std::size_t>(j) * kv_stride;
    const float a = scores[j];
    for (int d = 0; d < head_dim; ++d) out[d] += a * v[d];
  }
}

}  // namespace tinygpt
