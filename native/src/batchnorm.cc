// Batch normalisation with given statistics (tfjs FusedBatchNorm): parameters repeat cyclically over x,
// as in tfjs-cpu, so per-channel [C] parameters broadcast over NHWC. Also the training step's fused pair
// (lib/training/fused_step.ts): a conv's ReLU and the BatchNorm after it, forward and backward, in two passes each.
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "common.h"
#include "kernels.h"
#include "simd.h"

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

// The row loops of the training kernels, built per instruction set (see simd.h).
#define MNIST_SIMD_ROWS "batchnorm_rows.inc"
#include "simd_builds.inc"
#undef MNIST_SIMD_ROWS

namespace {

// The 2×2, stride-2, 'valid' max-pool fused after a training BatchNorm: z = [images, h, w, c], and `at` the winner of
// each pooled element's window; no `at` (null) means no pool.
struct Pool {
  Span<int32_t> at;
  int64_t images = 0, h = 0, w = 0, c = 0;
  int64_t PooledSize() const { return images * (h / 2) * (w / 2) * c; }
};

// Arguments i (at or null), i + 1 (height), i + 2 (width) for z of `size` elements and c channels.
Pool GetPool(const Napi::CallbackInfo& info, size_t i, size_t size, int64_t c) {
  Pool pool;
  pool.at = GetArray<int32_t>(info, i, "pool winners", true);
  if (!pool.at.data) return pool;
  Napi::Env env = info.Env();
  pool.h = ToInt(env, info[i + 1], "pool height", 2);
  pool.w = ToInt(env, info[i + 2], "pool width", 2);
  pool.c = c;
  ONEDNN_CHECK(env, static_cast<int64_t>(size) % (pool.h * pool.w * c) == 0, RangeError,
               "Expected z's size " + std::to_string(size) + " to be whole images of " + std::to_string(pool.h) + "x" +
                   std::to_string(pool.w) + "x" + std::to_string(c));
  pool.images = static_cast<int64_t>(size) / (pool.h * pool.w * c);
  CheckSize(env, pool.at, pool.PooledSize(), "pool winners");
  return pool;
}

void CheckChannels(Napi::Env env, size_t size, int64_t c, const char* name) {
  ONEDNN_CHECK(env, c > 0 && size > 0 && size % static_cast<size_t>(c) == 0, RangeError,
               std::string("Expected ") + name + "'s size to be a non-zero multiple of the channel count " + std::to_string(c) +
                   " but found " + std::to_string(size));
}

}  // namespace

// batchNormReluTrain(z, gamma, beta, movingMean, movingVariance, y, mean, variance, newMovingMean, newMovingVariance,
// epsilon, momentum, poolWinners|null, height, width): BatchNorm in training mode of a = relu(z), z = [rows, C]: the
// batch's per-channel mean and (biased) variance of a, y = (a − mean)·γ/√(variance + ε) + β, and the moving statistics
// as tfjs-layers updates them (v − (v − batch)·(1 − momentum), op by op in float32). What tfjs-layers computes with
// relu, moments, batchNormalization and six small ops (about sixteen kernels), in two passes; sums in float64. With
// pool winners, y is the 2×2 max-pool of that (with each window's winner), in the same second pass.
Napi::Value BatchNormReluTrain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto z = GetArray<float>(info, 0, "z");
  auto [gamma, beta, movingMean, movingVar] = GetSameSizeArrays<float>(info, 1, {"gamma", "beta", "movingMean", "movingVariance"});
  auto y = GetArray<float>(info, 5, "y");
  auto [mean, var, newMovingMean, newMovingVar] =
      GetSameSizeArrays<float>(info, 6, {"mean", "variance", "newMovingMean", "newMovingVariance"});
  const double eps = GetDouble(info, 10, "varianceEpsilon");
  const float decay = static_cast<float>(1.0 - GetDouble(info, 11, "momentum"));
  const int64_t c = static_cast<int64_t>(gamma.size);
  CheckChannels(env, z.size, c, "z");
  const Pool pool = GetPool(info, 12, z.size, c);
  CheckSize(env, y, pool.at.data ? pool.PooledSize() : static_cast<int64_t>(z.size), "y");
  CheckSize(env, mean, c, "mean");
  const int64_t rows = static_cast<int64_t>(z.size) / c;
  ThreadRows<double> sums(c, 0.0), squares(c, 0.0);
  ForRowShares(rows, rows * c, [&](int64_t first, int64_t count) {
    MNIST_ROWS_FOR_SIMD(ReluSums)(z.data + first * c, count, c, sums.Row(), squares.Row());
  });
  std::vector<float> k(c);
  for (int64_t j = 0; j < c; ++j) {
    const double mu = sums.Total(j) / rows;
    mean.data[j] = static_cast<float>(mu);
    var.data[j] = static_cast<float>(std::max(0.0, squares.Total(j) / rows - mu * mu));
    k[j] = static_cast<float>(gamma.data[j] / std::sqrt(static_cast<double>(var.data[j]) + eps));
    const float meanStep = (movingMean.data[j] - mean.data[j]) * decay, varStep = (movingVar.data[j] - var.data[j]) * decay;
    newMovingMean.data[j] = movingMean.data[j] - meanStep;
    newMovingVar.data[j] = movingVar.data[j] - varStep;
  }
  if (pool.at.data) {
    const int64_t image = pool.h * pool.w * c, pooledImage = (pool.h / 2) * (pool.w / 2) * c;
    ForRowShares(pool.images, rows * c, [&](int64_t first, int64_t count) {
      MNIST_ROWS_FOR_SIMD(ReluNormalizePool)(z.data + first * image, y.data + first * pooledImage, pool.at.data + first * pooledImage,
                                             count, pool.h, pool.w, c, mean.data, k.data(), beta.data);
    });
    return env.Undefined();
  }
  ForRowShares(rows, rows * c, [&](int64_t first, int64_t count) {
    MNIST_ROWS_FOR_SIMD(ReluNormalize)(z.data + first * c, y.data + first * c, count, c, mean.data, k.data(), beta.data);
  });
  return env.Undefined();
}

// batchNormReluGrad(dy, z, mean, variance, gamma, dz, dGamma, dBeta, dBias, epsilon, poolWinners|null, height, width):
// the backward pass of batchNormReluTrain and of the conv bias before it (with pool winners, of the max-pool too: dy is
// the pooled gradient). With x̂ = (relu(z) − mean)/√(variance + ε) and N rows:
// dγ = Σ dy·x̂, dβ = Σ dy, dz = [z > 0]·γ/√(variance + ε)·(dy − dβ/N − x̂·dγ/N), dBias = Σ dz.
Napi::Value BatchNormReluGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto dy = GetArray<float>(info, 0, "dy");
  auto z = GetArray<float>(info, 1, "z");
  auto [mean, var, gamma] = GetSameSizeArrays<float>(info, 2, {"mean", "variance", "gamma"});
  auto dz = GetArray<float>(info, 5, "dz");
  auto [dGamma, dBeta, dBias] = GetSameSizeArrays<float>(info, 6, {"dGamma", "dBeta", "dBias"});
  const double eps = GetDouble(info, 9, "varianceEpsilon");
  const int64_t c = static_cast<int64_t>(mean.size);
  CheckChannels(env, z.size, c, "z");
  const Pool pool = GetPool(info, 10, z.size, c);
  CheckSize(env, dy, pool.at.data ? pool.PooledSize() : static_cast<int64_t>(z.size), "dy");
  CheckSize(env, dz, static_cast<int64_t>(z.size), "dz");
  CheckSize(env, dGamma, c, "dGamma");
  const int64_t rows = static_cast<int64_t>(z.size) / c;
  std::vector<float> rs(c);
  for (int64_t j = 0; j < c; ++j) rs[j] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var.data[j]) + eps));
  ThreadRows<double> dySums(c, 0.0), dyXhatSums(c, 0.0);
  const int64_t image = pool.h * pool.w * c, pooledImage = (pool.h / 2) * (pool.w / 2) * c;
  if (pool.at.data) {
    ForRowShares(pool.images, rows * c, [&](int64_t first, int64_t count) {
      MNIST_ROWS_FOR_SIMD(GradSumsPool)(dy.data + first * pooledImage, pool.at.data + first * pooledImage, z.data + first * image, count,
                                        pool.h, pool.w, c, mean.data, rs.data(), dySums.Row(), dyXhatSums.Row());
    });
  } else {
    ForRowShares(rows, rows * c, [&](int64_t first, int64_t count) {
      MNIST_ROWS_FOR_SIMD(GradSums)(dy.data + first * c, z.data + first * c, count, c, mean.data, rs.data(), dySums.Row(), dyXhatSums.Row());
    });
  }
  // dz = [z > 0]·(k·dy − x̂·u − w) per channel, with k = γ·rs, u = k·dγ/N, w = k·dβ/N.
  std::vector<float> k(c), u(c), w(c);
  for (int64_t j = 0; j < c; ++j) {
    const double sumDy = dySums.Total(j), sumDyXhat = dyXhatSums.Total(j);
    dBeta.data[j] = static_cast<float>(sumDy);
    dGamma.data[j] = static_cast<float>(sumDyXhat);
    const double kk = static_cast<double>(gamma.data[j]) * rs[j];
    k[j] = static_cast<float>(kk);
    u[j] = static_cast<float>(kk * sumDyXhat / rows);
    w[j] = static_cast<float>(kk * sumDy / rows);
  }
  ThreadRows<double> biasSums(c, 0.0);
  if (pool.at.data) {
    ForRowShares(pool.images, rows * c, [&](int64_t first, int64_t count) {
      MNIST_ROWS_FOR_SIMD(GradRowsPool)(dy.data + first * pooledImage, pool.at.data + first * pooledImage, z.data + first * image,
                                        dz.data + first * image, count, pool.h, pool.w, c, mean.data, rs.data(), k.data(), u.data(),
                                        w.data(), biasSums.Row());
    });
  } else {
    ForRowShares(rows, rows * c, [&](int64_t first, int64_t count) {
      MNIST_ROWS_FOR_SIMD(GradRows)(dy.data + first * c, z.data + first * c, dz.data + first * c, count, c, mean.data, rs.data(),
                                    k.data(), u.data(), w.data(), biasSums.Row());
    });
  }
  for (int64_t j = 0; j < c; ++j) dBias.data[j] = static_cast<float>(biasSums.Total(j));
  return env.Undefined();
}

}  // namespace mnist
