// Copies that change layout or dtype: cast, transpose, tile, slice, fill. Element size is all that matters
// for the copies, so they work on float32, int32 and bool alike.
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

Raw GetRaw(const Napi::CallbackInfo& info, size_t i, const char* name) {
  char kind = ArrayKind(info, i, name);
  Napi::TypedArray a = info[i].As<Napi::TypedArray>();
  return {static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset(), a.ElementLength(), kind == 'b' ? 1u : 4u, kind};
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
  auto loop = [&](auto* in, auto* out, auto f) {
#pragma omp parallel for if (n > kParallelGrain) schedule(static)
    for (int64_t i = 0; i < n; ++i) out[i] = f(in[i]);
  };
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

// transpose(x, shape, perm, out)
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Raw x = GetRaw(info, 0, "x");
  auto shape = GetInts(info, 1, "shape");
  auto perm = GetInts(info, 2, "perm");
  Raw y = GetRaw(info, 3, "output");
  size_t r = shape.size();
  ONEDNN_CHECK(env, perm.size() == r && r > 0, RangeError, "Expected a permutation of the input's rank");
  ONEDNN_CHECK(env, x.kind == y.kind, TypeError, "Expected output of the input's dtype");
  int64_t n = Product(shape);
  ONEDNN_CHECK(env, static_cast<int64_t>(x.size) == n && static_cast<int64_t>(y.size) == n, RangeError,
               "Expected input and output sizes to match the shape");
  std::vector<int64_t> inStride(r, 1), outDims(r), srcStride(r);
  std::vector<bool> seen(r, false);
  for (size_t i = r - 1; i-- > 0;) inStride[i] = inStride[i + 1] * shape[i + 1];
  for (size_t i = 0; i < r; ++i) {
    ONEDNN_CHECK(env, perm[i] < static_cast<int64_t>(r) && !seen[perm[i]], RangeError, "Expected a permutation");
    seen[perm[i]] = true;
    outDims[i] = shape[perm[i]];
    srcStride[i] = inStride[perm[i]];
  }
  if (n == 0) return env.Undefined();
  const int64_t inner = outDims[r - 1];
  const int64_t rows = n / inner;
  const size_t e = x.element;
#pragma omp parallel for if (n > kParallelGrain) schedule(static)
  for (int64_t row = 0; row < rows; ++row) {
    int64_t rem = row, src = 0;
    for (size_t i = r - 1; i-- > 0;) {
      src += (rem % outDims[i]) * srcStride[i];
      rem /= outDims[i];
    }
    uint8_t* dst = y.data + row * inner * e;
    const int64_t s = srcStride[r - 1];
    if (e == 4) {
      const uint32_t* in = reinterpret_cast<const uint32_t*>(x.data) + src;
      uint32_t* out = reinterpret_cast<uint32_t*>(dst);
      for (int64_t j = 0; j < inner; ++j) out[j] = in[j * s];
    } else {
      const uint8_t* in = x.data + src;
      for (int64_t j = 0; j < inner; ++j) dst[j] = in[j * s];
    }
  }
  return env.Undefined();
}

// tile(x, shape, reps, out)
Napi::Value Tile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Raw x = GetRaw(info, 0, "x");
  auto shape = GetInts(info, 1, "shape");
  auto reps = GetInts(info, 2, "reps");
  Raw y = GetRaw(info, 3, "output");
  size_t r = shape.size();
  ONEDNN_CHECK(env, reps.size() == r && r > 0, RangeError, "Expected one repetition count per input dimension");
  ONEDNN_CHECK(env, x.kind == y.kind, TypeError, "Expected output of the input's dtype");
  std::vector<int64_t> outDims(r), inStride(r, 1);
  for (size_t i = 0; i < r; ++i) outDims[i] = shape[i] * reps[i];
  for (size_t i = r - 1; i-- > 0;) inStride[i] = inStride[i + 1] * shape[i + 1];
  int64_t n = Product(outDims);
  ONEDNN_CHECK(env, static_cast<int64_t>(x.size) == Product(shape) && static_cast<int64_t>(y.size) == n, RangeError,
               "Expected input and output sizes to match shape and reps");
  if (n == 0) return env.Undefined();
  const int64_t inner = shape[r - 1], rows = n / outDims[r - 1];
  const size_t e = x.element;
#pragma omp parallel for if (n > kParallelGrain) schedule(static)
  for (int64_t row = 0; row < rows; ++row) {
    int64_t rem = row, src = 0;
    for (size_t i = r - 1; i-- > 0;) {
      src += ((rem % outDims[i]) % shape[i]) * inStride[i];
      rem /= outDims[i];
    }
    uint8_t* dst = y.data + row * outDims[r - 1] * e;
    for (int64_t k = 0; k < reps[r - 1]; ++k) std::memcpy(dst + k * inner * e, x.data + src * e, inner * e);
  }
  return env.Undefined();
}

// slice(x, shape, begin, size, out)
Napi::Value Slice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Raw x = GetRaw(info, 0, "x");
  auto shape = GetInts(info, 1, "shape");
  auto begin = GetInts(info, 2, "begin");
  auto size = GetInts(info, 3, "size");
  Raw y = GetRaw(info, 4, "output");
  size_t r = shape.size();
  ONEDNN_CHECK(env, begin.size() == r && size.size() == r && r > 0, RangeError, "Expected begin and size of the input's rank");
  ONEDNN_CHECK(env, x.kind == y.kind, TypeError, "Expected output of the input's dtype");
  for (size_t i = 0; i < r; ++i)
    ONEDNN_CHECK(env, begin[i] + size[i] <= shape[i], RangeError, "Expected the slice to lie inside the input");
  int64_t n = Product(size);
  ONEDNN_CHECK(env, static_cast<int64_t>(x.size) == Product(shape) && static_cast<int64_t>(y.size) == n, RangeError,
               "Expected input and output sizes to match the shapes");
  if (n == 0) return env.Undefined();
  std::vector<int64_t> inStride(r, 1);
  for (size_t i = r - 1; i-- > 0;) inStride[i] = inStride[i + 1] * shape[i + 1];
  const int64_t inner = size[r - 1], rows = n / inner;
  const size_t e = x.element;
#pragma omp parallel for if (n > kParallelGrain) schedule(static)
  for (int64_t row = 0; row < rows; ++row) {
    int64_t rem = row, src = begin[r - 1];
    for (size_t i = r - 1; i-- > 0;) {
      src += (rem % size[i] + begin[i]) * inStride[i];
      rem /= size[i];
    }
    std::memcpy(y.data + row * inner * e, x.data + src * e, inner * e);
  }
  return env.Undefined();
}

// fill(out, value)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Raw y = GetRaw(info, 0, "output");
  double v = GetDouble(info, 1, "value");
  const int64_t n = static_cast<int64_t>(y.size);
  if (y.kind == 'f') { float* p = reinterpret_cast<float*>(y.data); float f = static_cast<float>(v); for (int64_t i = 0; i < n; ++i) p[i] = f; }
  else if (y.kind == 'i') { int32_t* p = reinterpret_cast<int32_t*>(y.data); int32_t f = static_cast<int32_t>(v); for (int64_t i = 0; i < n; ++i) p[i] = f; }
  else std::memset(y.data, v != 0 ? 1 : 0, n);
  return env.Undefined();
}

}  // namespace mnist

namespace mnist {

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
    Napi::Value v = list.Get(i);
    ONEDNN_CHECK(env, v.IsTypedArray(), TypeError, "Expected a TypedArray for input " + std::to_string(i));
    Napi::TypedArray a = v.As<Napi::TypedArray>();
    char kind = a.TypedArrayType() == napi_float32_array ? 'f' : a.TypedArrayType() == napi_int32_array ? 'i'
              : a.TypedArrayType() == napi_uint8_array ? 'b' : '?';
    ONEDNN_CHECK(env, kind == y.kind, TypeError, "Expected every input of the output's dtype");
    xs.push_back({static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset(), a.ElementLength(), y.element, kind});
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
