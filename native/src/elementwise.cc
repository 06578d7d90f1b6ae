// Broadcasting binary ops, unary ops and select, as plain loops (vectorisable inner loops, split over threads).
// Results follow tfjs-cpu, including NaN propagation (max/min propagate NaN like Math.max/Math.min).
#include <cmath>
#include <cstring>

#include "common.h"
#include "enums.h"
#include "kernels.h"

namespace mnist {
namespace {

using namespace binary_op;  // NOLINT(build/namespaces): the codes of enums.h by their short names
using namespace unary_op;   // NOLINT

template <int Op, typename T>
inline auto Apply(T a, T b) {
  if constexpr (Op == kAdd) return a + b;
  else if constexpr (Op == kSub) return a - b;
  else if constexpr (Op == kMul) return a * b;
  else if constexpr (Op == kDiv) return a / b;
  else if constexpr (Op == kMaximum) return (a != a || b != b) ? a + b : (a > b ? a : b);
  else if constexpr (Op == kMinimum) return (a != a || b != b) ? a + b : (a < b ? a : b);
  else if constexpr (Op == kPow) return static_cast<T>(std::pow(static_cast<double>(a), static_cast<double>(b)));
  else if constexpr (Op == kSquaredDifference) return (a - b) * (a - b);
  else if constexpr (Op == kEqual) return static_cast<uint8_t>(a == b);
  else if constexpr (Op == kNotEqual) return static_cast<uint8_t>(a != b);
  else if constexpr (Op == kGreater) return static_cast<uint8_t>(a > b);
  else if constexpr (Op == kGreaterEqual) return static_cast<uint8_t>(a >= b);
  else if constexpr (Op == kLess) return static_cast<uint8_t>(a < b);
  else if constexpr (Op == kLessEqual) return static_cast<uint8_t>(a <= b);
  else if constexpr (Op == kLogicalAnd) return static_cast<uint8_t>(a && b);
  else if constexpr (Op == kLogicalOr) return static_cast<uint8_t>(a || b);
  else return a < 0 ? a * b : a;  // kPrelu: b is alpha
}

// Output dims collapsed to at most a few, with each input's stride per dim (0 where it broadcasts).
struct Broadcast {
  std::vector<int64_t> dims, sa, sb;
};

Broadcast Plan(Napi::Env env, const std::vector<int64_t>& as, const std::vector<int64_t>& bs, const std::vector<int64_t>& os) {
  size_t r = os.size();
  ONEDNN_CHECK(env, as.size() <= r && bs.size() <= r, RangeError, "Expected input ranks not above the output rank");
  std::vector<int64_t> ad(r, 1), bd(r, 1);
  for (size_t i = 0; i < as.size(); ++i) ad[r - as.size() + i] = as[i];
  for (size_t i = 0; i < bs.size(); ++i) bd[r - bs.size() + i] = bs[i];
  // Per dim: 1 = input varies along it, 0 = broadcast.
  std::vector<int> va(r), vb(r);
  for (size_t i = 0; i < r; ++i) {
    ONEDNN_CHECK(env, (ad[i] == os[i] || ad[i] == 1) && (bd[i] == os[i] || bd[i] == 1), RangeError,
                 "Expected shapes that broadcast to the output shape");
    va[i] = ad[i] == os[i] && os[i] != 1;
    vb[i] = bd[i] == os[i] && os[i] != 1;
  }
  Broadcast p;
  std::vector<int> pa, pb;
  for (size_t i = 0; i < r; ++i) {
    if (os[i] == 1) continue;
    if (!p.dims.empty() && pa.back() == va[i] && pb.back() == vb[i]) {
      p.dims.back() *= os[i];
    } else {
      p.dims.push_back(os[i]);
      pa.push_back(va[i]);
      pb.push_back(vb[i]);
    }
  }
  if (p.dims.empty()) { p.dims.push_back(1); pa.push_back(1); pb.push_back(1); }
  size_t q = p.dims.size();
  p.sa.assign(q, 0);
  p.sb.assign(q, 0);
  int64_t ka = 1, kb = 1;
  for (size_t i = q; i-- > 0;) {
    if (pa[i]) { p.sa[i] = ka; ka *= p.dims[i]; }
    if (pb[i]) { p.sb[i] = kb; kb *= p.dims[i]; }
  }
  return p;
}

template <int Op, typename T, typename O>
void RunBinary(const T* a, const T* b, O* out, const Broadcast& p) {
  size_t q = p.dims.size();
  int64_t inner = p.dims[q - 1];
  int64_t ia = p.sa[q - 1], ib = p.sb[q - 1];
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < q; ++i) rows *= p.dims[i];
#pragma omp parallel for if (rows * inner > kParallelGrain && rows > 1) schedule(static)
  for (int64_t row = 0; row < rows; ++row) {
    int64_t oa = 0, ob = 0, rem = row;
    for (size_t i = q - 1; i-- > 0;) {
      int64_t idx = rem % p.dims[i];
      rem /= p.dims[i];
      oa += idx * p.sa[i];
      ob += idx * p.sb[i];
    }
    const T* pa = a + oa;
    const T* pb = b + ob;
    O* po = out + row * inner;
    if (ia && ib) for (int64_t j = 0; j < inner; ++j) po[j] = Apply<Op, T>(pa[j], pb[j]);
    else if (ia) { T v = pb[0]; for (int64_t j = 0; j < inner; ++j) po[j] = Apply<Op, T>(pa[j], v); }
    else if (ib) { T v = pa[0]; for (int64_t j = 0; j < inner; ++j) po[j] = Apply<Op, T>(v, pb[j]); }
    else { O v = Apply<Op, T>(pa[0], pb[0]); for (int64_t j = 0; j < inner; ++j) po[j] = v; }
  }
}

// A single row of length 1 with many rows is the worst case for the row loop: parallelise inner instead.
// One loop per case: a choice of index inside the loop keeps the compiler from vectorising it.
template <int Op, typename T, typename O>
void RunBinaryFlat(const T* a, const T* b, O* out, int64_t n, bool aScalar, bool bScalar) {
  if (aScalar && bScalar) {
    const O v = Apply<Op, T>(a[0], b[0]);
    for (int64_t j = 0; j < n; ++j) out[j] = v;
  } else if (bScalar) {
    const T v = b[0];
#pragma omp parallel for if (n > kParallelGrain) schedule(static)
    for (int64_t j = 0; j < n; ++j) out[j] = Apply<Op, T>(a[j], v);
  } else if (aScalar) {
    const T v = a[0];
#pragma omp parallel for if (n > kParallelGrain) schedule(static)
    for (int64_t j = 0; j < n; ++j) out[j] = Apply<Op, T>(v, b[j]);
  } else {
#pragma omp parallel for if (n > kParallelGrain) schedule(static)
    for (int64_t j = 0; j < n; ++j) out[j] = Apply<Op, T>(a[j], b[j]);
  }
}

template <int Op, typename T>
void Dispatch(const Napi::CallbackInfo& info, const Broadcast& p, int64_t total) {
  Napi::Env env = info.Env();
  auto a = GetArray<T>(info, 1, "a");
  auto b = GetArray<T>(info, 3, "b");
  using O = decltype(Apply<Op, T>(T(), T()));
  auto out = GetArray<O>(info, 5, "output");
  CheckSize(env, out, total, "output");
  int64_t na = 1, nb = 1;
  for (size_t i = 0; i < p.dims.size(); ++i) {
    if (p.sa[i]) na *= p.dims[i];
    if (p.sb[i]) nb *= p.dims[i];
  }
  CheckSize(env, a, na, "a");
  CheckSize(env, b, nb, "b");
  if (total == 0) return;
  if (p.dims.size() == 1) RunBinaryFlat<Op, T, O>(a.data, b.data, out.data, total, p.sa[0] == 0, p.sb[0] == 0);
  else RunBinary<Op, T, O>(a.data, b.data, out.data, p);
}

template <int Op>
void DispatchKind(const Napi::CallbackInfo& info, char kind, const Broadcast& p, int64_t total) {
  Napi::Env env = info.Env();
  constexpr bool logical = Op == kLogicalAnd || Op == kLogicalOr;
  constexpr bool comparison = Op >= kEqual && Op <= kLessEqual;
  if constexpr (logical) {
    ONEDNN_CHECK(env, kind == 'b', TypeError, "Expected bool (Uint8Array) inputs for a logical op");
    Dispatch<Op, uint8_t>(info, p, total);
  } else {
    if (kind == 'f') Dispatch<Op, float>(info, p, total);
    else if (kind == 'i' && comparison) Dispatch<Op, int32_t>(info, p, total);
    else ONEDNN_THROW(env, TypeError, "Expected float32 inputs (or int32 for comparisons) for a binary op");
  }
}

template <int... Ops>
void DispatchOp(const Napi::CallbackInfo& info, int op, char kind, const Broadcast& p, int64_t total,
                std::integer_sequence<int, Ops...>) {
  ((op == Ops ? (DispatchKind<Ops>(info, kind, p, total), 0) : 0), ...);
}

}  // namespace

// binary(op, a, aShape, b, bShape, out, outShape)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto op = GetCode(info, 0, "binary op code", binary_op::kCount);
  char ka = ArrayKind(info, 1, "a"), kb = ArrayKind(info, 3, "b");
  ONEDNN_CHECK(env, ka == kb, TypeError, "Expected inputs of one dtype");
  auto as = GetInts(info, 2, "aShape"), bs = GetInts(info, 4, "bShape"), os = GetInts(info, 6, "outShape");
  Broadcast p = Plan(env, as, bs, os);
  DispatchOp(info, static_cast<int>(op), ka, p, Product(os), std::make_integer_sequence<int, binary_op::kCount>());
  return env.Undefined();
}

// unary(op, x, out, alpha, beta): float32 -> float32 (LogicalNot: bool -> bool).
Napi::Value Unary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto op = GetCode(info, 0, "unary op code", unary_op::kCount);
  if (op == kLogicalNot) {
    auto x = GetArray<uint8_t>(info, 1, "x");
    auto y = GetArray<uint8_t>(info, 2, "output");
    CheckSize(env, y, x.size, "output");
    for (size_t i = 0; i < x.size; ++i) y.data[i] = !x.data[i];
    return env.Undefined();
  }
  auto x = GetArray<float>(info, 1, "x");
  auto y = GetArray<float>(info, 2, "output");
  CheckSize(env, y, x.size, "output");
  const float alpha = static_cast<float>(GetDouble(info, 3, "alpha"));
  const float beta = static_cast<float>(GetDouble(info, 4, "beta"));
  const int64_t n = static_cast<int64_t>(x.size);
  const float* in = x.data;
  float* out = y.data;
#define UNARY_LOOP(expr)                                                    \
  _Pragma("omp parallel for if (n > kParallelGrain) schedule(static)")     \
  for (int64_t i = 0; i < n; ++i) { const float v = in[i]; out[i] = (expr); } \
  break;
  switch (op) {
    case kRelu: UNARY_LOOP(v < 0.f ? 0.f : v)
    case kStep: UNARY_LOOP(v != v ? v : (v > 0.f ? 1.f : alpha))
    case kSquare: UNARY_LOOP(v * v)
    case kSqrt: UNARY_LOOP(std::sqrt(v))
    case kRsqrt: UNARY_LOOP(1.f / std::sqrt(v))
    case kNeg: UNARY_LOOP(-v)
    case kLog: UNARY_LOOP(static_cast<float>(std::log(static_cast<double>(v))))
    case kExp: UNARY_LOOP(static_cast<float>(std::exp(static_cast<double>(v))))
    case kFloor: UNARY_LOOP(std::floor(v))
    case kAbs: UNARY_LOOP(std::fabs(v))
    case kClip: UNARY_LOOP(v > beta ? beta : (v < alpha ? alpha : v))
    case kSigmoid: UNARY_LOOP(static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(v)))))
    case kRelu6: UNARY_LOOP(v < 0.f ? 0.f : (v > 6.f ? 6.f : v))
    case kReciprocal: UNARY_LOOP(1.f / v)
    case kLeakyRelu: UNARY_LOOP(v < 0.f ? alpha * v : v)
    case kElu: UNARY_LOOP(v < 0.f ? static_cast<float>(std::expm1(static_cast<double>(v))) : v)
    case kCeil: UNARY_LOOP(std::ceil(v))
    case kTanh: UNARY_LOOP(static_cast<float>(std::tanh(static_cast<double>(v))))
    default: break;
  }
#undef UNARY_LOOP
  return env.Undefined();
}

// select(condition(bool), a, b, out): condition has a's size, or one value per leading row of a.
Napi::Value Select(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto cond = GetArray<uint8_t>(info, 0, "condition");
  char kind = ArrayKind(info, 1, "a");
  ONEDNN_CHECK(env, ArrayKind(info, 2, "b") == kind && ArrayKind(info, 3, "output") == kind, TypeError,
               "Expected a, b and output of one dtype");
  auto run = [&](auto tag) {
    using T = decltype(tag);
    auto [a, b, o] = GetSameSizeArrays<T>(info, 1, {"a", "b", "output"});
    int64_t n = static_cast<int64_t>(a.size);
    if (n == 0) return;
    ONEDNN_CHECK(env, cond.size > 0 && n % static_cast<int64_t>(cond.size) == 0, RangeError,
                 "Expected the condition's size to divide the inputs' size");
    int64_t per = n / static_cast<int64_t>(cond.size);
    for (int64_t i = 0; i < n; ++i) o.data[i] = cond.data[i / per] ? a.data[i] : b.data[i];
  };
  if (kind == 'f') run(float());
  else if (kind == 'i') run(int32_t());
  else run(uint8_t());
  return env.Undefined();
}

// reluGrad(dy, x, out): dy * step(x) in one pass, with step(NaN) = NaN as in tfjs-cpu.
Napi::Value ReluGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto [dy, x, out] = GetSameSizeArrays<float>(info, 0, {"dy", "x", "output"});
  const int64_t n = static_cast<int64_t>(dy.size);
  const float* g = dy.data;
  const float* in = x.data;
  float* o = out.data;
  // Selects rather than branches, so the loop vectorises (branches on the sign of x mispredict half the time).
#pragma omp parallel for if (n > kParallelGrain) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float v = in[i];
    const float step = v > 0.f ? 1.f : 0.f;
    o[i] = g[i] * (v != v ? v : step);
  }
  return env.Undefined();
}

}  // namespace mnist
