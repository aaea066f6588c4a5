#pragma once
// Positional encodings. Learned positions are simply rows of wpe; the sinusoidal
// ones are computed once at load into a table of the same shape, so the forward pass
// treats both alike: x = wte[token] + wpe[pos].
#include <span>

#include "tinygpt/model.h"

namespace tinygpt {

// PE[p][2i] = sin(p / 10000^(2i/D)),  PE[p][2i+1] = cos(p / 10000^(2i/D)),
// written to out[p * n_embd + j]; out holds n_ctx * n_embd floats.
void sinusoidal_table(std::span<float> out, int n_ctx, int n_embd);

}  // namespace tinygpt
