// Softmax over the last axis, computed as tfjs-cpu does: exp(x - max) / sum, sums in double; and the cross-entropy
// of a softmax from its logits with its gradient, each one pass over the rows (TensorFlow's
// softmax_cross_entropy_with_logits: no clipping, gradient softmax - labels).
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

namespace {
// One row: writes its softmax to `p` and returns its log-sum-exp (the max taken first, sums in double).
double RowSoftmax(const float* x, float* p, int64_t cols) {
  float m = x[0];
  for (int64_t j = 1; j < cols; ++j) m = (x[j] != x[j] || x[j] > m) ? x[j] : m;
  double sum = 0;
  for (int64_t j = 0; j < cols; ++j) {
    const double e = std::exp(static_cast<double>(x[j]) - m);
    p[j] = static_cast<float>(e);
    sum += e;
  }
  const double inv = 1.0 / sum;
  for (int64_t j = 0; j < cols; ++j) p[j] = static_cast<float>(p[j] * inv);
  return m + std::log(sum);
}
}  // namespace

// softmaxCrossEntropy(logits, labels, loss, softmax, rows, cols): loss[i] = sum_j labels[i,j] * (lse_i - logits[i,j]),
// and the softmax kept for the gradient.
Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto x = GetArray<float>(info, 0, "logits");
  auto labels = GetArray<float>(info, 1, "labels");
  auto loss = GetArray<float>(info, 2, "loss");
  auto p = GetArray<float>(info, 3, "softmax");
  int64_t rows = GetInt(info, 4, "rows"), cols = GetInt(info, 5, "cols");
  ONEDNN_CHECK(env, rows >= 0 && cols > 0, RangeError, "Expected rows >= 0 and cols > 0 for the softmax cross-entropy");
  CheckSize(env, x, rows * cols, "logits");
  CheckSize(env, labels, rows * cols, "labels");
  CheckSize(env, loss, rows, "loss");
  CheckSize(env, p, rows * cols, "softmax");
#pragma omp parallel for if (rows * cols > kParallelGrain) schedule(static)
  for (int64_t i = 0; i < rows; ++i) {
    const float* in = x.data + i * cols;
    const float* l = labels.data + i * cols;
    const double lse = RowSoftmax(in, p.data + i * cols, cols);
    double sum = 0;
    for (int64_t j = 0; j < cols; ++j) sum += static_cast<double>(l[j]) * (lse - in[j]);
    loss.data[i] = static_cast<float>(sum);
  }
  return env.Undefined();
}

// softmaxCrossEntropyGrad(dy, softmax, labels, dLogits, rows, cols): dLogits[i,j] = dy[i] * (softmax[i,j] - labels[i,j]).
Napi::Value SoftmaxCrossEntropyGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto dy = GetArray<float>(info, 0, "dy");
  auto p = GetArray<float>(info, 1, "softmax");
  auto labels = GetArray<float>(info, 2, "labels");
  auto dx = GetArray<float>(info, 3, "dLogits");
  int64_t rows = GetInt(info, 4, "rows"), cols = GetInt(info, 5, "cols");
  ONEDNN_CHECK(env, rows >= 0 && cols > 0, RangeError, "Expected rows >= 0 and cols > 0 for the softmax cross-entropy gradient");
  CheckSize(env, dy, rows, "dy");
  CheckSize(env, p, rows * cols, "softmax");
  CheckSize(env, labels, rows * cols, "labels");
  CheckSize(env, dx, rows * cols, "dLogits");
#pragma omp parallel for if (rows * cols > kParallelGrain) schedule(static)
  for (int64_t i = 0; i < rows; ++i) {
    const float g = dy.data[i];
    for (int64_t j = 0; j < cols; ++j) dx.data[i * cols + j] = g * (p.data[i * cols + j] - labels.data[i * cols + j]);
  }
  return env.Undefined();
}

}  // namespace mnist
