// The Keras-exact RMSprop and Adam updates (lib/training/optimizers.ts): one call and one parallel region for every
// variable of a step. Each element takes the same float32 operations, in the same order, as the tfjs ops they replace
// (mul, square, add, sqrt, div, sub, each rounded to float32), so results are bit for bit those of the op chain;
// binding.gyp turns FMA contraction off.
#include <cmath>

#include "common.h"
#include "kernels.h"
#include "simd.h"

namespace mnist {

// The element loops, built per instruction set (see simd.h).
#define MNIST_SIMD_ROWS "optimizer_rows.inc"
#include "simd_builds.inc"
#undef MNIST_SIMD_ROWS

// Sizes of a list of arrays.
std::vector<int64_t> SizesOf(const std::vector<Span<float>>& arrays) {
  std::vector<int64_t> sizes;
  for (const auto& a : arrays) sizes.push_back(static_cast<int64_t>(a.size));
  return sizes;
}

// kerasRmspropUpdate(p[], g[], a[], pOut[], aOut[], rmsprop): every variable of a step at once (lists of arrays, one per
// variable); rmsprop is lib/backend's KerasRmspropUpdateAttrs, read by field name.
// a' = a·ρ + g²·(1 − ρ);  p' = p − (g·lr) / (√a' + ε)
Napi::Value KerasRmspropUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto [p, g, a, pOut, aOut] = GetSameSizeArrayLists<float>(info, 0, {"p", "g", "a", "pOut", "aOut"});
  Fields attrs(info, 5, "rmsprop");
  const float lr = static_cast<float>(attrs.Double("learningRate"));
  const float rho = static_cast<float>(attrs.Double("rho"));
  const float oneMinusRho = static_cast<float>(attrs.Double("oneMinusRho"));
  const float eps = static_cast<float>(attrs.Double("epsilon"));
  ForListShares(SizesOf(p), [&](size_t k, int64_t first, int64_t count) {
    MNIST_ROWS_FOR_SIMD(RmspropRows)(p[k].data + first, g[k].data + first, a[k].data + first, pOut[k].data + first, aOut[k].data + first,
                                     count, lr, rho, oneMinusRho, eps);
  });
  return env.Undefined();
}

// kerasAdamUpdate(p[], g[], m[], v[], pOut[], mOut[], vOut[], adam): every variable of a step at once; adam is
// lib/backend's KerasAdamUpdateAttrs, read by field name (its learningRate is Keras's bias-corrected lr_t).
// m' = m·β₁ + g·(1 − β₁);  v' = v·β₂ + g²·(1 − β₂);  p' = p − (m'·lr_t) / (√v' + ε)
Napi::Value KerasAdamUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto [p, g, m, v, pOut, mOut, vOut] = GetSameSizeArrayLists<float>(info, 0, {"p", "g", "m", "v", "pOut", "mOut", "vOut"});
  Fields attrs(info, 7, "adam");
  const float lrT = static_cast<float>(attrs.Double("learningRate"));
  const float b1 = static_cast<float>(attrs.Double("beta1"));
  const float omb1 = static_cast<float>(attrs.Double("oneMinusBeta1"));
  const float b2 = static_cast<float>(attrs.Double("beta2"));
  const float omb2 = static_cast<float>(attrs.Double("oneMinusBeta2"));
  const float eps = static_cast<float>(attrs.Double("epsilon"));
  ForListShares(SizesOf(p), [&](size_t k, int64_t first, int64_t count) {
    MNIST_ROWS_FOR_SIMD(AdamRows)(p[k].data + first, g[k].data + first, m[k].data + first, v[k].data + first, pOut[k].data + first,
                                  mOut[k].data + first, vOut[k].data + first, count, lrT, b1, omb1, b2, omb2, eps);
  });
  return env.Undefined();
}

}  // namespace mnist
