// Dropout of the training step (lib/training/fused_step.ts) in one pass: each element's keep decision comes from a
// counter-based hash of (seed, index), so masks repeat exactly for a seed whatever the thread count or instruction
// set, and no random numbers are drawn in JS (tfjs draws one per element with seedrandom, then floors, divides and
// multiplies).
#include <cstdint>

#include "common.h"
#include "kernels.h"
#include "simd.h"

namespace mnist {

// The row loop, built per instruction set (see simd.h).
#define MNIST_SIMD_ROWS "dropout_rows.inc"
#include "simd_builds.inc"
#undef MNIST_SIMD_ROWS

// dropout(x, y, multiplier, rate, seed): multiplier = 1/(1 − rate) where uniform(seed, i) ≥ rate, else 0, as tfjs's
// floor(u + keep)/keep; y = x·multiplier. The backward pass multiplies dy by the same multiplier.
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto [x, y, multiplier] = GetSameSizeArrays<float>(info, 0, {"x", "y", "multiplier"});
  const double rate = GetDouble(info, 3, "rate");
  ONEDNN_CHECK(env, rate >= 0 && rate < 1, RangeError, "Expected a dropout rate in [0, 1) but found " + std::to_string(rate));
  const uint32_t seed = static_cast<uint32_t>(ToInt(env, info[4], "seed", 0));
  const float threshold = static_cast<float>(rate);
  const float scale = 1.0f / static_cast<float>(1.0 - rate);
  const int64_t n = static_cast<int64_t>(x.size);
  auto rows = MNIST_ROWS_FOR_SIMD(DropoutRange);
#pragma omp parallel if (n > kParallelGrain)
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t first = n * t / threads, last = n * (t + 1) / threads;
    rows(x.data, y.data, multiplier.data, first, last, seed, threshold, scale);
  }
  return env.Undefined();
}

}  // namespace mnist
