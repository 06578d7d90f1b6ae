// Bias and activation applied after a native product, as plain loops that keep NaN like tfjs-cpu
// (oneDNN's relu post-op turns NaN into 0).
#pragma once
#include <cmath>
#include <cstdint>

#include "common.h"
#include "enums.h"

namespace mnist {

// c (rows × n) += bias per column (when given), then the activation; alpha is leakyrelu's slope.
inline void BiasActivation(float* c, const float* bias, int64_t rows, int64_t n, activation::Code act, float alpha) {
#pragma omp parallel for if (rows * n > kParallelGrain) schedule(static)
  for (int64_t i = 0; i < rows; ++i) {
    float* row = c + i * n;
    if (bias)
      for (int64_t j = 0; j < n; ++j) row[j] += bias[j];
    switch (act) {
      case activation::kRelu: for (int64_t j = 0; j < n; ++j) row[j] = row[j] < 0.f ? 0.f : row[j]; break;
      case activation::kRelu6: for (int64_t j = 0; j < n; ++j) row[j] = row[j] < 0.f ? 0.f : (row[j] > 6.f ? 6.f : row[j]); break;
      case activation::kElu: for (int64_t j = 0; j < n; ++j) row[j] = row[j] < 0.f ? std::expm1(row[j]) : row[j]; break;
      case activation::kLeakyRelu: for (int64_t j = 0; j < n; ++j) row[j] = row[j] < 0.f ? alpha * row[j] : row[j]; break;
      case activation::kSigmoid: for (int64_t j = 0; j < n; ++j) row[j] = 1.f / (1.f + std::exp(-row[j])); break;
      default: break;
    }
  }
}

}  // namespace mnist
