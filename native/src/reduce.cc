// Reductions over the middle axis of an [outer, reduce, inner] view; lib/backend/kernels/reduce.ts
// brings any axis set to that form (transposing only when the axes are not contiguous).
// Sums accumulate in double, as tfjs-cpu does in JS numbers; a mean divides before rounding to float, so
// values near FLT_MAX do not overflow (tfjs-cpu divides each element first).
#include <cmath>
#include <limits>
#include <vector>

#include "common.h"
#include "kernels.h"

namespace mnist {
namespace {
enum ReduceOp { kSum, kMean, kMax, kMin, kProd, kArgMax, kArgMin, kAny, kAll, kReduceOpCount };

template <int Op>
inline bool Better(float v, float best) {
  if constexpr (Op == kMax) return v != v || v > best;   // NaN propagates (tfjs-cpu Max)
  else if constexpr (Op == kMin) return v != v || v < best;
  else if constexpr (Op == kArgMax) return v > best;     // first maximum; NaN never wins
  else return v < best;
}

template <int Op>
void ExtremumRows(const float* x, float* outF, int32_t* outI, int64_t k1, int64_t r, int64_t k2) {
#pragma omp parallel for if (k1 * r * k2 > kParallelGrain) schedule(static)
  for (int64_t o = 0; o < k1 * k2; ++o) {
    int64_t i = o / k2, j = o % k2;
    const float* p = x + i * r * k2 + j;
    float best = p[0];
    int32_t at = 0;
    for (int64_t t = 1; t < r; ++t) {
      float v = p[t * k2];
      if (Better<Op>(v, best)) { best = v; at = static_cast<int32_t>(t); }
    }
    if (outI) outI[o] = at; else outF[o] = best;
  }
}
}  // namespace

// reduce(op, x, out, outer, reduce, inner)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t op = GetInt(info, 0, "op");
  ONEDNN_CHECK(env, op >= 0 && op < kReduceOpCount, RangeError, "Expected a reduce op code but found " + std::to_string(op));
  int64_t k1 = GetInt(info, 3, "outer"), r = GetInt(info, 4, "reduce"), k2 = GetInt(info, 5, "inner");
  ONEDNN_CHECK(env, k1 >= 0 && r >= 0 && k2 >= 0, RangeError, "Expected non-negative reduce sizes");
  if (op == kAny || op == kAll) {
    auto x = GetArray<uint8_t>(info, 1, "x");
    auto y = GetArray<uint8_t>(info, 2, "output");
    CheckSize(env, x, k1 * r * k2, "x");
    CheckSize(env, y, k1 * k2, "output");
    for (int64_t o = 0; o < k1 * k2; ++o) {
      int64_t i = o / k2, j = o % k2;
      bool acc = op == kAll;
      for (int64_t t = 0; t < r; ++t) {
        bool v = x.data[(i * r + t) * k2 + j] != 0;
        acc = op == kAll ? (acc && v) : (acc || v);
      }
      y.data[o] = acc;
    }
    return env.Undefined();
  }
  if (op == kSum && ArrayKind(info, 1, "x") == 'i') {
    // int32 sums (counts of correct predictions): wrap to int32 like tfjs-cpu's Int32Array store.
    auto x = GetArray<int32_t>(info, 1, "x");
    auto y = GetArray<int32_t>(info, 2, "output");
    CheckSize(env, x, k1 * r * k2, "x");
    CheckSize(env, y, k1 * k2, "output");
    for (int64_t o = 0; o < k1 * k2; ++o) {
      int64_t i = o / k2, j = o % k2;
      int64_t acc = 0;
      for (int64_t t = 0; t < r; ++t) acc += x.data[(i * r + t) * k2 + j];
      y.data[o] = static_cast<int32_t>(static_cast<uint32_t>(acc));
    }
    return env.Undefined();
  }
  auto x = GetArray<float>(info, 1, "x");
  CheckSize(env, x, k1 * r * k2, "x");
  if (op == kArgMax || op == kArgMin) {
    auto y = GetArray<int32_t>(info, 2, "output");
    CheckSize(env, y, k1 * k2, "output");
    ONEDNN_CHECK(env, r > 0 || k1 * k2 == 0, RangeError, "Expected a non-empty axis for argMax/argMin");
    if (k1 * k2 == 0) return env.Undefined();
    if (op == kArgMax) ExtremumRows<kArgMax>(x.data, nullptr, y.data, k1, r, k2);
    else ExtremumRows<kArgMin>(x.data, nullptr, y.data, k1, r, k2);
    return env.Undefined();
  }
  auto y = GetArray<float>(info, 2, "output");
  CheckSize(env, y, k1 * k2, "output");
  if (k1 * k2 == 0) return env.Undefined();
  if (op == kMax || op == kMin) {
    if (r == 0) {
      for (int64_t o = 0; o < k1 * k2; ++o)
        y.data[o] = op == kMax ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
    } else if (op == kMax) ExtremumRows<kMax>(x.data, y.data, nullptr, k1, r, k2);
    else ExtremumRows<kMin>(x.data, y.data, nullptr, k1, r, k2);
    return env.Undefined();
  }
  const bool prod = op == kProd;
  const float* in = x.data;
  if (k1 == 1 && k2 > 1 && r > 1) {
    // Column sums (e.g. batch-norm moments over N*H*W per channel): split rows across threads.
    std::vector<double> total(k2, prod ? 1.0 : 0.0);
#pragma omp parallel if (r * k2 > kParallelGrain)
    {
      std::vector<double> part(k2, prod ? 1.0 : 0.0);
#pragma omp for schedule(static) nowait
      for (int64_t t = 0; t < r; ++t) {
        const float* row = in + t * k2;
        if (prod) for (int64_t j = 0; j < k2; ++j) part[j] *= row[j];
        else for (int64_t j = 0; j < k2; ++j) part[j] += row[j];
      }
#pragma omp critical
      for (int64_t j = 0; j < k2; ++j) total[j] = prod ? total[j] * part[j] : total[j] + part[j];
    }
    for (int64_t j = 0; j < k2; ++j) y.data[j] = static_cast<float>(op == kMean ? total[j] / static_cast<double>(r) : total[j]);
  } else {
#pragma omp parallel for if (k1 * r * k2 > kParallelGrain) schedule(static)
    for (int64_t o = 0; o < k1 * k2; ++o) {
      int64_t i = o / k2, j = o % k2;
      const float* p = in + i * r * k2 + j;
      double acc = prod ? 1.0 : 0.0;
      if (prod) for (int64_t t = 0; t < r; ++t) acc *= p[t * k2];
      else for (int64_t t = 0; t < r; ++t) acc += p[t * k2];
      // A mean over an empty axis is 0, as tfjs-cpu's sum of x / 0 over no elements.
      if (op == kMean) acc = r == 0 ? 0.0 : acc / static_cast<double>(r);
      y.data[o] = static_cast<float>(acc);
    }
  }
  return env.Undefined();
}

}  // namespace mnist
