// Reductions over the middle axis of an [outer, reduce, inner] view; lib/backend/kernels/reduce.ts
// brings any axis set to that form (transposing only when the axes are not contiguous).
// Sums accumulate in double, as tfjs-cpu does in JS numbers; a mean divides before rounding to float, so
// values near FLT_MAX do not overflow (tfjs-cpu divides each element first).
#include <cmath>
#include <limits>
#include <vector>

#include "common.h"
#include "enums.h"
#include "kernels.h"

namespace mnist {
namespace {
using namespace reduce_op;  // NOLINT(build/namespaces): the codes of enums.h by their short names

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

// out[o] = finish(step(…step(init, x[i, 0, j])…, x[i, r - 1, j])) for each o = i·k2 + j of the [k1, r, k2] view.
template <typename T, typename O, typename Acc, typename Step, typename Finish>
void FoldMiddle(const T* x, O* out, int64_t k1, int64_t r, int64_t k2, Acc init, Step step, Finish finish) {
#pragma omp parallel for if (k1 * r * k2 > kParallelGrain) schedule(static)
  for (int64_t o = 0; o < k1 * k2; ++o) {
    const T* p = x + (o / k2) * r * k2 + o % k2;
    Acc acc = init;
    for (int64_t t = 0; t < r; ++t) acc = step(acc, p[t * k2]);
    out[o] = finish(acc);
  }
}
// Arguments 1 and 2: x as the [k1, r, k2] view and the output as [k1, k2].
template <typename T, typename O>
std::pair<Span<T>, Span<O>> GetInOut(const Napi::CallbackInfo& info, int64_t k1, int64_t r, int64_t k2) {
  auto x = GetArray<T>(info, 1, "x");
  auto y = GetArray<O>(info, 2, "output");
  CheckSize(info.Env(), x, k1 * r * k2, "x");
  CheckSize(info.Env(), y, k1 * k2, "output");
  return {x, y};
}
}  // namespace

// reduce(op, x, out, outer, reduce, inner)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto op = GetCode(info, 0, "reduce op code", reduce_op::kCount);
  int64_t k1 = GetInt(info, 3, "outer"), r = GetInt(info, 4, "reduce"), k2 = GetInt(info, 5, "inner");
  ONEDNN_CHECK(env, k1 >= 0 && r >= 0 && k2 >= 0, RangeError, "Expected non-negative reduce sizes");
  if (op == kAny || op == kAll) {
    auto [x, y] = GetInOut<uint8_t, uint8_t>(info, k1, r, k2);
    const bool all = op == kAll;
    FoldMiddle(x.data, y.data, k1, r, k2, all, [all](bool acc, uint8_t v) { return all ? (acc && v != 0) : (acc || v != 0); },
               [](bool acc) { return static_cast<uint8_t>(acc); });
    return env.Undefined();
  }
  if (op == kSum && ArrayKind(info, 1, "x") == 'i') {
    // int32 sums (counts of correct predictions): wrap to int32 like tfjs-cpu's Int32Array store.
    auto [x, y] = GetInOut<int32_t, int32_t>(info, k1, r, k2);
    FoldMiddle(x.data, y.data, k1, r, k2, int64_t{0}, [](int64_t acc, int32_t v) { return acc + v; },
               [](int64_t acc) { return static_cast<int32_t>(static_cast<uint32_t>(acc)); });
    return env.Undefined();
  }
  if (op == kArgMax || op == kArgMin) {
    auto [x, y] = GetInOut<float, int32_t>(info, k1, r, k2);
    ONEDNN_CHECK(env, r > 0 || k1 * k2 == 0, RangeError, "Expected a non-empty axis for argMax/argMin");
    if (k1 * k2 == 0) return env.Undefined();
    if (op == kArgMax) ExtremumRows<kArgMax>(x.data, nullptr, y.data, k1, r, k2);
    else ExtremumRows<kArgMin>(x.data, nullptr, y.data, k1, r, k2);
    return env.Undefined();
  }
  auto [x, y] = GetInOut<float, float>(info, k1, r, k2);
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
    ThreadRows<double> parts(k2, prod ? 1.0 : 0.0);
#pragma omp parallel if (r * k2 > kParallelGrain)
    {
      double* part = parts.Row();
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
    // A mean over an empty axis is 0, as tfjs-cpu's sum of x / 0 over no elements.
    auto finish = [op, r](double acc) {
      return static_cast<float>(op == kMean ? (r == 0 ? 0.0 : acc / static_cast<double>(r)) : acc);
    };
    if (prod) FoldMiddle(in, y.data, k1, r, k2, 1.0, [](double acc, float v) { return acc * v; }, finish);
    else FoldMiddle(in, y.data, k1, r, k2, 0.0, [](double acc, float v) { return acc + v; }, finish);
  }
  return env.Undefined();
}

}  // namespace mnist
