// Copies that change layout or dtype: cast, transpose, tile, slice, fill. Element size is all that matters
// for the copies, so they work on float32, int32 and bool alike.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "common.h"
#include "kernels.h"

namespace mnist {
namespace {

struct Raw {
  uint8_t* data;
  size_t size;     // elements
  size_t element;  // bytes per element
  char kind;
};

Raw ToRaw(Napi::Env env, const Napi::Value& v, const std::string& name) {
  ONEDNN_CHECK(env, v.IsTypedArray(), TypeError, "Expected a TypedArray for " + name + " but found " + Describe(v));
  Napi::TypedArray a = v.As<Napi::TypedArray>();
  char kind = a.TypedArrayType() == napi_float32_array ? 'f'
              : a.TypedArrayType() == napi_int32_array ? 'i'
              : a.TypedArrayType() == napi_uint8_array ? 'b'
                                                        : '?';
  ONEDNN_CHECK(env, kind != '?', TypeError, "Expected a Float32Array, Int32Array or Uint8Array for " + name);
  return {static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset(), a.ElementLength(), kind == 'b' ? 1u : 4u, kind};
}

Raw GetRaw(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return ToRaw(info.Env(), info.Length() > i ? info[i] : info.Env().Undefined(), name);
}

// tfjs-cpu casts float to int32 with Int32Array.from: truncation, NaN and Infinity to 0, wrapping modulo 2^32.
inline int32_t ToInt32(float v) {
  if (!std::isfinite(v)) return 0;
  double t = std::trunc(static_cast<double>(v));
  if (t >= -2147483648.0 && t <= 2147483647.0) return static_cast<int32_t>(t);
  double m = std::fmod(t, 4294967296.0);
  if (m < 0) m += 4294967296.0;
  return static_cast<int32_t>(static_cast<uint32_t>(m));
}

}  // namespace

// cast(x, out): between Float32Array, Int32Array and Uint8Array (bool).
Napi::Value Cast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Raw x = GetRaw(info, 0, "x"), y = GetRaw(info, 1, "output");
  ONEDNN_CHECK(env, x.size == y.size, RangeError,
               "Expected " + std::to_string(x.size) + " elements in output but found " + std::to_string(y.size));
  const int64_t n = static_cast<int64_t>(x.size);
  auto loop = [&](auto* in, auto* out, auto f) { ParallelFor(n, [&](int64_t i) { out[i] = f(in[i]); }); };
  auto* xf = reinterpret_cast<float*>(x.data);
  auto* xi = reinterpret_cast<int32_t*>(x.data);
  auto* xb = x.data;
  auto* yf = reinterpret_cast<float*>(y.data);
  auto* yi = reinterpret_cast<int32_t*>(y.data);
  auto* yb = y.data;
  if (x.kind == y.kind) {
    if (n) std::memcpy(y.data, x.data, n * x.element);
  } else if (x.kind == 'f' && y.kind == 'i') loop(xf, yi, [](float v) { return ToInt32(v); });
  else if (x.kind == 'f' && y.kind == 'b') loop(xf, yb, [](float v) { return static_cast<uint8_t>(v != 0.f); });
  else if (x.kind == 'i' && y.kind == 'f') loop(xi, yf, [](int32_t v) { return static_cast<float>(v); });
  else if (x.kind == 'i' && y.kind == 'b') loop(xi, yb, [](int32_t v) { return static_cast<uint8_t>(v != 0); });
  else if (x.kind == 'b' && y.kind == 'f') loop(xb, yf, [](uint8_t v) { return v ? 1.f : 0.f; });
  else loop(xb, yi, [](uint8_t v) { return static_cast<int32_t>(v != 0); });
  return env.Undefined();
}

namespace {

// The arguments of transpose, tile and slice: x, its shape, `lists` arrays of one integer per dimension, the output.
struct CopyArgs {
  Napi::Env env;
  Raw x, y;
  std::vector<int64_t> shape;
  std::vector<std::vector<int64_t>> lists;
};

CopyArgs GetCopyArgs(const Napi::CallbackInfo& info, std::initializer_list<const char*> lists) {
  Napi::Env env = info.Env();
  CopyArgs a{env, GetRaw(info, 0, "x"), {}, GetInts(info, 1, "shape"), {}};
  size_t i = 2;
  for (const char* name : lists) {
    a.lists.push_back(GetInts(info, i++, name));
    ONEDNN_CHECK(env, a.lists.back().size() == a.shape.size() && !a.shape.empty(), RangeError,
                 std::string("Expected ") + name + " of the input's rank " + std::to_string(a.shape.size()) + " but found " +
                     std::to_string(a.lists.back().size()) + " values");
  }
  a.y = GetRaw(info, i, "output");
  ONEDNN_CHECK(env, a.x.kind == a.y.kind, TypeError, "Expected output of the input's dtype");
  ONEDNN_CHECK(env, static_cast<int64_t>(a.x.size) == Product(a.shape), RangeError,
               "Expected " + std::to_string(Product(a.shape)) + " elements in x (its shape) but found " + std::to_string(a.x.size));
  return a;
}

// Row-major strides of a shape, in elements.
std::vector<int64_t> Strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t i = shape.size() - 1; i-- > 0;) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

// Where each row of an output (every dimension but the last) starts in the input: the output index in dimension i
// reads input index (index mod wrap[i]) + begin[i], input stride stride[i]. Transpose, tile and slice differ only in
// wrap, begin and stride.
struct RowSource {
  std::vector<int64_t> dims, wrap, begin, stride;
  int64_t Offset(int64_t row) const {
    int64_t rem = row, src = 0;
    for (size_t i = dims.size() - 1; i-- > 0;) {
      src += (rem % dims[i] % wrap[i] + begin[i]) * stride[i];
      rem /= dims[i];
    }
    return src;
  }
};

// copyRow(dst, src) for each output row (the output's shape being rows.dims), dst and src being byte pointers at
// its start in the output and the input.
template <typename CopyRow>
void ForEachRow(const CopyArgs& a, const RowSource& rows, CopyRow copyRow) {
  const int64_t n = Product(rows.dims), inner = rows.dims.back();
  ONEDNN_CHECK(a.env, static_cast<int64_t>(a.y.size) == n, RangeError,
               "Expected " + std::to_string(n) + " elements in output but found " + std::to_string(a.y.size));
  if (n == 0) return;
  const size_t e = a.x.element;
  ParallelFor(n / inner, [&](int64_t row) { copyRow(a.y.data + row * inner * e, a.x.data + rows.Offset(row) * e); }, n);
}

}  // namespace

// transpose(x, shape, perm, out)
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CopyArgs a = GetCopyArgs(info, {"perm"});
  const auto& shape = a.shape;
  const auto& perm = a.lists[0];
  size_t r = shape.size();
  std::vector<int64_t> inStride = Strides(shape), outDims(r), srcStride(r);
  std::vector<bool> seen(r, false);
  for (size_t i = 0; i < r; ++i) {
    ONEDNN_CHECK(env, perm[i] < static_cast<int64_t>(r) && !seen[perm[i]], RangeError, "Expected a permutation");
    seen[perm[i]] = true;
    outDims[i] = shape[perm[i]];
    srcStride[i] = inStride[perm[i]];
  }
  const int64_t inner = outDims[r - 1], s = srcStride[r - 1];
  const bool wide = a.x.element == 4;
  ForEachRow(a, {outDims, outDims, std::vector<int64_t>(r, 0), srcStride}, [&](uint8_t* dst, const uint8_t* src) {
    if (wide) {
      const uint32_t* in = reinterpret_cast<const uint32_t*>(src);
      uint32_t* out = reinterpret_cast<uint32_t*>(dst);
      for (int64_t j = 0; j < inner; ++j) out[j] = in[j * s];
    } else {
      for (int64_t j = 0; j < inner; ++j) dst[j] = src[j * s];
    }
  });
  return env.Undefined();
}

// tile(x, shape, reps, out)
Napi::Value Tile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CopyArgs a = GetCopyArgs(info, {"reps"});
  const auto& shape = a.shape;
  const auto& reps = a.lists[0];
  size_t r = shape.size();
  std::vector<int64_t> outDims(r);
  for (size_t i = 0; i < r; ++i) outDims[i] = shape[i] * reps[i];
  const size_t bytes = shape[r - 1] * a.x.element;
  ForEachRow(a, {outDims, shape, std::vector<int64_t>(r, 0), Strides(shape)}, [&](uint8_t* dst, const uint8_t* src) {
    for (int64_t k = 0; k < reps[r - 1]; ++k) std::memcpy(dst + k * bytes, src, bytes);
  });
  return env.Undefined();
}

// slice(x, shape, begin, size, out)
Napi::Value Slice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CopyArgs a = GetCopyArgs(info, {"begin", "size"});
  const auto& shape = a.shape;
  const auto& begin = a.lists[0];
  const auto& size = a.lists[1];
  size_t r = shape.size();
  for (size_t i = 0; i < r; ++i)
    ONEDNN_CHECK(env, begin[i] + size[i] <= shape[i], RangeError, "Expected the slice to lie inside the input");
  const size_t bytes = size[r - 1] * a.x.element, first = begin[r - 1] * a.x.element;
  ForEachRow(a, {size, size, begin, Strides(shape)}, [&](uint8_t* dst, const uint8_t* src) { std::memcpy(dst, src + first, bytes); });
  return env.Undefined();
}

// fill(out, value)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Raw y = GetRaw(info, 0, "output");
  double v = GetDouble(info, 1, "value");
  const int64_t n = static_cast<int64_t>(y.size);
  if (y.kind == 'f') std::fill_n(reinterpret_cast<float*>(y.data), n, static_cast<float>(v));
  else if (y.kind == 'i') std::fill_n(reinterpret_cast<int32_t*>(y.data), n, static_cast<int32_t>(v));
  else std::memset(y.data, v != 0 ? 1 : 0, n);
  return env.Undefined();
}

// concat(inputs[], inners[], outer, out): input i is [outer, inners[i]]; out is [outer, sum(inners)].
Napi::Value Concat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ONEDNN_CHECK(env, info.Length() > 0 && info[0].IsArray(), TypeError, "Expected an array of TypedArrays for inputs");
  Napi::Array list = info[0].As<Napi::Array>();
  auto inners = GetInts(info, 1, "inners");
  int64_t outer = GetInt(info, 2, "outer");
  Raw y = GetRaw(info, 3, "output");
  ONEDNN_CHECK(env, inners.size() == list.Length() && outer >= 0, RangeError, "Expected one inner size per input");
  std::vector<Raw> xs;
  int64_t width = 0;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    xs.push_back(ToRaw(env, list.Get(i), "input " + std::to_string(i)));
    ONEDNN_CHECK(env, xs.back().kind == y.kind, TypeError, "Expected every input of the output's dtype");
    ONEDNN_CHECK(env, static_cast<int64_t>(xs.back().size) == outer * inners[i], RangeError,
                 "Expected " + std::to_string(outer * inners[i]) + " elements in input " + std::to_string(i));
    width += inners[i];
  }
  ONEDNN_CHECK(env, static_cast<int64_t>(y.size) == outer * width, RangeError, "Expected the output to hold all inputs");
  const size_t e = y.element;
#pragma omp parallel for if (outer * width > kParallelGrain) schedule(static)
  for (int64_t row = 0; row < outer; ++row) {
    uint8_t* dst = y.data + row * width * e;
    for (size_t i = 0; i < xs.size(); ++i) {
      std::memcpy(dst, xs[i].data + row * inners[i] * e, inners[i] * e);
      dst += inners[i] * e;
    }
  }
  return env.Undefined();
}

}  // namespace mnist
