// Shared helpers of the addon: argument checking that throws JS errors, never aborts.
#pragma once
#include <napi.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

// The one way native code reports an error: a JS error of the given kind (TypeError, RangeError, Error), thrown as a
// C++ exception that node-addon-api hands to JS. Never inside an OpenMP region (an exception cannot leave one).
#define ONEDNN_THROW(env, Kind, msg) throw Napi::Kind::New((env), std::string(msg))
#define ONEDNN_CHECK(env, cond, Kind, msg) \
  do { if (!(cond)) ONEDNN_THROW(env, Kind, msg); } while (0)

namespace mnist {

// A typed array argument as pointer + length, honouring byteOffset (views are common in tfjs-cpu).
template <typename T>
struct Span {
  T* data = nullptr;
  size_t size = 0;
};

inline const char* TypeName(napi_typedarray_type t) {
  switch (t) {
    case napi_float32_array: return "Float32Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint8_array: return "Uint8Array";
    default: return "another TypedArray";
  }
}

template <typename T> constexpr napi_typedarray_type ArrayTypeOf();
template <> constexpr napi_typedarray_type ArrayTypeOf<float>() { return napi_float32_array; }
template <> constexpr napi_typedarray_type ArrayTypeOf<int32_t>() { return napi_int32_array; }
template <> constexpr napi_typedarray_type ArrayTypeOf<uint8_t>() { return napi_uint8_array; }

// A typed array of T from a JS value known to be a TypedArray.
template <typename T>
Span<T> ToSpan(Napi::Env env, const Napi::Value& v, const std::string& name) {
  Napi::TypedArray a = v.As<Napi::TypedArray>();
  ONEDNN_CHECK(env, a.TypedArrayType() == ArrayTypeOf<T>(), TypeError,
               std::string("Expected a ") + TypeName(ArrayTypeOf<T>()) + " for " + name + " but found a " +
                   TypeName(a.TypedArrayType()));
  Span<T> s;
  s.data = reinterpret_cast<T*>(static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
  s.size = a.ElementLength();
  return s;
}

template <typename T>
Span<T> GetArray(const Napi::CallbackInfo& info, size_t i, const char* name, bool optional = false) {
  Napi::Env env = info.Env();
  if (optional && (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined())) return {};
  ONEDNN_CHECK(env, info.Length() > i && info[i].IsTypedArray(), TypeError,
               std::string("Expected a TypedArray for ") + name + " (argument " + std::to_string(i) + ")");
  return ToSpan<T>(env, info[i], name);
}

// Element type of a typed array argument: 'f' float32, 'i' int32, 'b' uint8/bool.
inline char ArrayKind(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Env env = info.Env();
  ONEDNN_CHECK(env, info.Length() > i && info[i].IsTypedArray(), TypeError,
               std::string("Expected a TypedArray for ") + name);
  switch (info[i].As<Napi::TypedArray>().TypedArrayType()) {
    case napi_float32_array: return 'f';
    case napi_int32_array: return 'i';
    case napi_uint8_array: return 'b';
    default: ONEDNN_THROW(env, TypeError, std::string("Expected a Float32Array, Int32Array or Uint8Array for ") + name);
  }
}

// A JS value as an error message shows it: a number as JS prints it, anything else by its type.
inline std::string Describe(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_number: {
      std::ostringstream s;
      s.precision(17);
      s << v.As<Napi::Number>().DoubleValue();
      return s.str();
    }
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "a boolean";
    case napi_string: return "a string";
    default: return v.IsArray() ? "an array" : "an object";
  }
}

// An integer of at least `min` (and within the JS integers) from a JS value; `name` says where it came from.
inline int64_t ToInt(Napi::Env env, const Napi::Value& v, const std::string& name, int64_t min = -(int64_t{1} << 53)) {
  ONEDNN_CHECK(env, v.IsNumber(), TypeError, "Expected a number for " + name + " but found " + Describe(v));
  double d = v.As<Napi::Number>().DoubleValue();
  bool ok = d >= static_cast<double>(min) && d <= 9007199254740992.0 && d == static_cast<double>(static_cast<int64_t>(d));
  ONEDNN_CHECK(env, ok, RangeError,
               (min == -(int64_t{1} << 53) ? "Expected an integer" : "Expected an integer of at least " + std::to_string(min)) +
                   " for " + name + " but found " + Describe(v));
  return static_cast<int64_t>(d);
}

inline int64_t GetInt(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return ToInt(info.Env(), info.Length() > i ? info[i] : info.Env().Undefined(), name);
}

inline double GetDouble(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info.Length() > i ? info[i] : info.Env().Undefined();
  ONEDNN_CHECK(info.Env(), v.IsNumber(), TypeError, std::string("Expected a number for ") + name + " but found " + Describe(v));
  return v.As<Napi::Number>().DoubleValue();
}

// A shape or list of sizes given as a JS array of non-negative integers.
inline std::vector<int64_t> GetInts(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Env env = info.Env();
  ONEDNN_CHECK(env, info.Length() > i && info[i].IsArray(), TypeError, std::string("Expected an array of integers for ") + name);
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<int64_t> v(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) v[k] = ToInt(env, a.Get(k), std::string(name) + "[" + std::to_string(k) + "]", 0);
  return v;
}

inline int64_t Product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t d : v) p *= d;
  return p;
}

template <typename T>
void CheckSize(Napi::Env env, const Span<T>& s, int64_t expected, const char* name) {
  ONEDNN_CHECK(env, static_cast<int64_t>(s.size) == expected, RangeError,
               std::string("Expected ") + std::to_string(expected) + " elements in " + name + " but found " +
                   std::to_string(s.size));
}

// Arguments first, first + 1, ... as arrays of T of one size (the first one's), named in errors by `names`.
template <typename T, size_t N>
std::array<Span<T>, N> GetSameSizeArrays(const Napi::CallbackInfo& info, size_t first, const char* const (&names)[N]) {
  std::array<Span<T>, N> spans;
  for (size_t k = 0; k < N; ++k) {
    spans[k] = GetArray<T>(info, first + k, names[k]);
    CheckSize(info.Env(), spans[k], static_cast<int64_t>(spans[0].size), names[k]);
  }
  return spans;
}

// Arguments first, first + 1, ... as JS arrays of typed arrays of T, one array per name: all of one length, and the k-th
// typed array of each of the size of the first argument's k-th; named in errors as name[k].
template <typename T, size_t N>
std::array<std::vector<Span<T>>, N> GetSameSizeArrayLists(const Napi::CallbackInfo& info, size_t first,
                                                          const char* const (&names)[N]) {
  Napi::Env env = info.Env();
  std::array<std::vector<Span<T>>, N> lists;
  for (size_t k = 0; k < N; ++k) {
    const size_t i = first + k;
    ONEDNN_CHECK(env, info.Length() > i && info[i].IsArray(), TypeError,
                 std::string("Expected an array of TypedArrays for ") + names[k] + " (argument " + std::to_string(i) + ")");
    Napi::Array list = info[i].As<Napi::Array>();
    ONEDNN_CHECK(env, k == 0 || list.Length() == lists[0].size(), RangeError,
                 std::string("Expected ") + std::to_string(lists[0].size()) + " arrays in " + names[k] + " but found " +
                     std::to_string(list.Length()));
    for (uint32_t j = 0; j < list.Length(); ++j) {
      const std::string name = std::string(names[k]) + "[" + std::to_string(j) + "]";
      Napi::Value v = list.Get(j);
      ONEDNN_CHECK(env, v.IsTypedArray(), TypeError, "Expected a TypedArray for " + name + " but found " + Describe(v));
      lists[k].push_back(ToSpan<T>(env, v, name));
      CheckSize(env, lists[k].back(), static_cast<int64_t>(lists[0][j].size), name.c_str());
    }
  }
  return lists;
}

// A parameter object read by field name (the addon's structs: tfjs's Conv2DInfo and Pool2DInfo, MatMulGeometry and the
// optimizer updates' attrs of lib/backend), each field checked and named in errors as object.field.
class Fields {
 public:
  Fields(const Napi::CallbackInfo& info, size_t i, const char* name) : env_(info.Env()), name_(name) {
    Napi::Value v = info.Length() > i ? info[i] : env_.Undefined();
    ONEDNN_CHECK(env_, v.IsObject() && !v.IsArray(), TypeError, "Expected an object for " + name_ + " but found " + Describe(v));
    object_ = v.As<Napi::Object>();
  }
  int64_t Int(const char* field, int64_t min) const { return ToInt(env_, object_.Get(field), name_ + "." + field, min); }
  double Double(const char* field) const {
    Napi::Value v = object_.Get(field);
    ONEDNN_CHECK(env_, v.IsNumber(), TypeError, "Expected a number for " + name_ + "." + field + " but found " + Describe(v));
    return v.As<Napi::Number>().DoubleValue();
  }
  bool Bool(const char* field) const {
    Napi::Value v = object_.Get(field);
    ONEDNN_CHECK(env_, v.IsBoolean(), TypeError, "Expected a boolean for " + name_ + "." + field + " but found " + Describe(v));
    return v.As<Napi::Boolean>().Value();
  }
  Fields Object(const char* field) const {
    std::string name = name_ + "." + field;
    Napi::Value v = object_.Get(field);
    ONEDNN_CHECK(env_, v.IsObject() && !v.IsArray(), TypeError, "Expected an object for " + name + " but found " + Describe(v));
    return Fields(env_, v.As<Napi::Object>(), std::move(name));
  }

 private:
  Fields(Napi::Env env, Napi::Object object, std::string name) : env_(env), object_(object), name_(std::move(name)) {}
  Napi::Env env_;
  Napi::Object object_;
  std::string name_;
};

// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kParallelGrain = 1 << 15;

// body(i) for every i in [0, n): split over threads when `work` (elements touched; n unless given) is above the
// grain, else a plain loop.
template <typename Body>
void ParallelFor(int64_t n, Body body, int64_t work = -1) {
  if ((work < 0 ? n : work) > kParallelGrain) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) body(i);
  } else {
    for (int64_t i = 0; i < n; ++i) body(i);
  }
}

// body(first, count) over the threads' static shares of `rows` rows (all of them on one thread when the work is below
// the parallel grain); the share a thread gets is fixed by its number, which indexes ThreadRows.
template <typename Body>
void ForRowShares(int64_t rows, int64_t work, Body body) {
#pragma omp parallel if (work > kParallelGrain)
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t first = rows * t / threads, last = rows * (t + 1) / threads;
    if (last > first) body(first, last - first);
  }
}

// body(list, first, count) over the elements of arrays of `sizes` laid end to end, split into the threads' static
// shares in one parallel region (one wake-up of the threads for every array; a share may span several arrays).
template <typename Body>
void ForListShares(const std::vector<int64_t>& sizes, Body body) {
  std::vector<int64_t> start(sizes.size() + 1, 0);
  for (size_t k = 0; k < sizes.size(); ++k) start[k + 1] = start[k] + sizes[k];
  const int64_t total = start.back();
#pragma omp parallel if (total > kParallelGrain)
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t lo = total * t / threads, hi = total * (t + 1) / threads;
    for (size_t k = 0; k < sizes.size(); ++k) {
      const int64_t first = std::max(lo, start[k]), last = std::min(hi, start[k + 1]);
      if (last > first) body(k, first - start[k], last - first);
    }
  }
}

// Scratch rows of `width` values per thread of a parallel region, allocated before it: an allocation failing inside
// an OpenMP region would end the process, since the exception cannot leave it. Each row starts on a cache-line pair of
// its own: the row loops update their row once per input row, and two threads writing one line would pass it back
// and forth on every update (false sharing), which made two threads slower than one.
template <typename T>
class ThreadRows {
 public:
  ThreadRows(int64_t width, T init)
      : stride_((width + kLine - 1) / kLine * kLine),
        threads_(omp_get_max_threads()),
        data_(static_cast<size_t>(threads_ * stride_ + kLine), init),
        base_(AlignedStart(data_.data())) {}
  ThreadRows(const ThreadRows&) = delete;
  ThreadRows& operator=(const ThreadRows&) = delete;
  // The calling thread's row; inside the region.
  T* Row() { return base_ + omp_get_thread_num() * stride_; }
  // Column j summed over the threads' rows in thread order, so the result does not depend on which thread
  // finished first (with a static schedule it is the same for the same thread count).
  T Total(int64_t j) const {
    T s = T();
    for (int64_t t = 0; t < threads_; ++t) s += base_[t * stride_ + j];
    return s;
  }

 private:
  // Values per 128 bytes: a cache line and the neighbour the adjacent-line prefetcher pulls in with it.
  static constexpr int64_t kLine = static_cast<int64_t>(128 / sizeof(T));
  static T* AlignedStart(T* p) {
    const uintptr_t address = reinterpret_cast<uintptr_t>(p);
    return reinterpret_cast<T*>((address + 127) & ~static_cast<uintptr_t>(127));
  }
  int64_t stride_;
  int64_t threads_;
  std::vector<T> data_;
  T* base_;
};

}  // namespace mnist
