// Dropout of the training step (lib/training/fused_step.ts) in one pass: each element's keep decision comes from a
// counter-based hash of (seed, index), so masks repeat exactly for a seed whatever the thread count, and no random
// numbers are drawn in JS (tfjs draws one per element with seedrandom, then floors, divides and multiplies).
#include <cstdint>

#include "common.h"
#include "kernels.h"

namespace mnist {
namespace {

// A uniform number in [0, 1) with 24 random bits (exact in float32): SplitMix64's finaliser of seed and index.
inline float Uniform(uint64_t seed, uint64_t index) {
  uint64_t x = (seed << 32 ^ index) + 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  x ^= x >> 31;
  return static_cast<float>(x >> 40) * (1.0f / 16777216.0f);
}

}  // namespace

// dropout(x, y, multiplier, rate, seed): multiplier = 1/(1 − rate) where uniform(seed, i) ≥ rate, else 0, as tfjs's
// floor(u + keep)/keep; y = x·multiplier. The backward pass multiplies dy by the same multiplier.
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto [x, y, multiplier] = GetSameSizeArrays<float>(info, 0, {"x", "y", "multiplier"});
  const double rate = GetDouble(info, 3, "rate");
  ONEDNN_CHECK(env, rate >= 0 && rate < 1, RangeError, "Expected a dropout rate in [0, 1) but found " + std::to_string(rate));
  const uint64_t seed = static_cast<uint64_t>(ToInt(env, info[4], "seed", 0)) & 0xFFFFFFFFull;
  const float threshold = static_cast<float>(rate);
  const float scale = 1.0f / static_cast<float>(1.0 - rate);
  const int64_t n = static_cast<int64_t>(x.size);
  const float* in = x.data;
  float* out = y.data;
  float* mult = multiplier.data;
  ParallelFor(n, [&](int64_t i) {
    const float m = Uniform(seed, static_cast<uint64_t>(i)) >= threshold ? scale : 0.f;
    mult[i] = m;
    out[i] = in[i] * m;
  });
  return env.Undefined();
}

}  // namespace mnist
