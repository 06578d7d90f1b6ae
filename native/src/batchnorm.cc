// Batch normalisation with given statistics (tfjs FusedBatchNorm): parameters repeat cyclically over x,
// as in tfjs-cpu, so per-channel [C] parameters broadcast over NHWC.
#include <cmath>
#include <vector>

#include "common.h"
#include "kernels.h"

namespace mnist {

// batchNorm(x, mean, variance, offset|null, scale|null, out, epsilon)
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto x = GetArray<float>(info, 0, "x");
  auto mean = GetArray<float>(info, 1, "mean");
  auto var = GetArray<float>(info, 2, "variance");
  auto off = GetArray<float>(info, 3, "offset", true);
  auto scale = GetArray<float>(info, 4, "scale", true);
  auto y = GetArray<float>(info, 5, "output");
  double eps = GetDouble(info, 6, "varianceEpsilon");
  CheckSize(env, y, x.size, "output");
  const float one = 1.f, zero = 0.f;
  const float* s = scale.data ? scale.data : &one;
  const float* o = off.data ? off.data : &zero;
  size_t ls = scale.data ? scale.size : 1, lo = off.data ? off.size : 1;
  ONEDNN_CHECK(env, mean.size > 0 && var.size > 0 && ls > 0 && lo > 0, RangeError, "Expected non-empty batch-norm parameters");
  const int64_t n = static_cast<int64_t>(x.size);
  if (n == 0) return env.Undefined();
  const int64_t c = static_cast<int64_t>(mean.size);
  if (var.size == mean.size && (ls == mean.size || ls == 1) && (lo == mean.size || lo == 1) && n % c == 0) {
    // y = (x - mean) * k + offset per channel, with k = scale / sqrt(variance + epsilon) folded in double.
    std::vector<float> k(c), d(c), m(mean.data, mean.data + c);
    for (int64_t j = 0; j < c; ++j) {
      double kk = (ls == 1 ? s[0] : s[j]) / std::sqrt(static_cast<double>(var.data[j]) + eps);
      k[j] = static_cast<float>(kk);
      d[j] = lo == 1 ? o[0] : o[j];
    }
    const int64_t rows = n / c;
#pragma omp parallel for if (n > kParallelGrain) schedule(static)
    for (int64_t i = 0; i < rows; ++i) {
      const float* in = x.data + i * c;
      float* out = y.data + i * c;
      for (int64_t j = 0; j < c; ++j) out[j] = (in[j] - m[j]) * k[j] + d[j];
    }
    return env.Undefined();
  }
  for (int64_t i = 0; i < n; ++i) {
    double v = o[i % lo] + (x.data[i] - mean.data[i % mean.size]) * static_cast<double>(s[i % ls]) /
                               std::sqrt(static_cast<double>(var.data[i % var.size]) + eps);
    y.data[i] = static_cast<float>(v);
  }
  return env.Undefined();
}

// batchNormGrad(dy, x, mean, variance, scale|null, dx, dMean, dVariance, dScale, dOffset, epsilon):
// all five gradients of FusedBatchNorm with per-channel [C] parameters over x = [..., C], in two passes
// (tfjs's gradient takes about fourteen full-size ops for the same).
Napi::Value BatchNormGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto dy = GetArray<float>(info, 0, "dy");
  auto x = GetArray<float>(info, 1, "x");
  auto mean = GetArray<float>(info, 2, "mean");
  auto var = GetArray<float>(info, 3, "variance");
  auto scale = GetArray<float>(info, 4, "scale", true);
  auto dx = GetArray<float>(info, 5, "dx");
  auto [dMean, dVar, dScale, dOffset] = GetSameSizeArrays<float>(info, 6, {"dMean", "dVariance", "dScale", "dOffset"});
  const float eps = static_cast<float>(GetDouble(info, 10, "varianceEpsilon"));
  const int64_t c = static_cast<int64_t>(mean.size);
  ONEDNN_CHECK(env, c > 0 && x.size % c == 0, RangeError, "Expected x's size to be a multiple of the channel count");
  CheckSize(env, dy, x.size, "dy");
  CheckSize(env, dx, x.size, "dx");
  CheckSize(env, var, c, "variance");
  CheckSize(env, dMean, c, "dMean");
  if (scale.data) CheckSize(env, scale, c, "scale");
  const int64_t rows = static_cast<int64_t>(x.size) / c;
  std::vector<float> rs(c), k(c), m(mean.data, mean.data + c);
  for (int64_t j = 0; j < c; ++j) {
    rs[j] = 1.f / std::sqrt(var.data[j] + eps);
    k[j] = rs[j] * (scale.data ? scale.data[j] : 1.f);
  }
  std::vector<double> s1(c, 0.0), s2(c, 0.0);
  ThreadRows<double> parts1(c, 0.0), parts2(c, 0.0);
#pragma omp parallel if (rows * c > kParallelGrain)
  {
    double* p1 = parts1.Row();
    double* p2 = parts2.Row();
#pragma omp for schedule(static) nowait
    for (int64_t i = 0; i < rows; ++i) {
      const float* g = dy.data + i * c;
      const float* in = x.data + i * c;
      float* out = dx.data + i * c;
      for (int64_t j = 0; j < c; ++j) {
        p1[j] += g[j];
        p2[j] += g[j] * (in[j] - m[j]);
        out[j] = g[j] * k[j];
      }
    }
#pragma omp critical
    for (int64_t j = 0; j < c; ++j) { s1[j] += p1[j]; s2[j] += p2[j]; }
  }
  for (int64_t j = 0; j < c; ++j) {
    const double r = rs[j], sc = scale.data ? scale.data[j] : 1.0;
    dOffset.data[j] = static_cast<float>(s1[j]);
    dScale.data[j] = static_cast<float>(r * s2[j]);
    dMean.data[j] = static_cast<float>(-r * sc * s1[j]);
    dVar.data[j] = static_cast<float>(-0.5 * r * r * r * sc * s2[j]);
  }
  return env.Undefined();
}

}  // namespace mnist
