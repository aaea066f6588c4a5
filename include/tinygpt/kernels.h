#pragma once
// The numeric building blocks of the forward pass, one small function per step.
// Shapes are in the comments; matrices are row-major, linear weights [out][in].
#include <span>

#include "tinygpt/model.h"

namespace tinygpt::kernels {

float dot(const float* a, const float* b, int n);

// out[i] = (x[i] - mean) / sqrt(var + eps) * weight[i] + bias[i]  over one row of n.
void layer_norm(float* out, const float* x, const float* weight, const float* bias, int n, float eps);

// out[t][r] = bias[r] + sum_c x[t][c] * w[r][c]   for t < n_rows_x; w is [out][in].
// `bias` may be null. The batch form is what makes prefill matrix-matrix work.
void linear(float* out, const float* x, int n_rows_x, const Matrix& w, const float* bias);

// In place over n values; the largest is subtracted first so exp never overflows.
void softmax(float* x, int n);

void gelu_tanh(float* x, int n);  // GPT-2's tanh approximation
void gelu_erf(float* x, int n);   // exact: x * Phi(x)
void relu(float* x, int n);
void activate(Activation a, float* x, int n);

}  // namespace tinygpt::kernels
