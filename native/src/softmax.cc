// Softmax over the last axis, computed as tfjs-cpu does: exp(x - max) / sum, sums in double.
#include <cmath>

#include "common.h"
#include "kernels.h"

namespace mnist {

// softmax(logits, out, rows, cols)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto x = GetArray<float>(info, 0, "logits");
  auto y = GetArray<float>(info, 1, "output");
  int64_t rows = GetInt(info, 2, "rows"), cols = GetInt(info, 3, "cols");
  ONEDNN_CHECK(env, rows >= 0 && cols >= 0, RangeError, "Expected non-negative softmax sizes");
  CheckSize(env, x, rows * cols, "logits");
  CheckSize(env, y, rows * cols, "output");
  if (cols == 0) return env.Undefined();
#pragma omp parallel for if (rows * cols > kParallelGrain) schedule(static)
  for (int64_t i = 0; i < rows; ++i) {
    const float* in = x.data + i * cols;
    float* out = y.data + i * cols;
    float m = in[0];
    for (int64_t j = 1; j < cols; ++j) m = (in[j] != in[j] || in[j] > m) ? in[j] : m;
    double sum = 0;
    for (int64_t j = 0; j < cols; ++j) {
      out[j] = static_cast<float>(std::exp(static_cast<double>(in[j] - m)));
      sum += out[j];
    }
    const float s = static_cast<float>(sum);
    for (int64_t j = 0; j < cols; ++j) out[j] = out[j] / s;
  }
  return env.Undefined();
}

}  // namespace mnist
